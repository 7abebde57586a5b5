#include "indexbus/error.hpp"

namespace indexbus {

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::Io: return "Io";
    case ErrorCode::NotFound: return "NotFound";
    case ErrorCode::AlreadyExists: return "AlreadyExists";
    case ErrorCode::SymlinkRefused: return "SymlinkRefused";
    case ErrorCode::NotRegularFile: return "NotRegularFile";
    case ErrorCode::WrongOwner: return "WrongOwner";
    case ErrorCode::WritableByOthers: return "WritableByOthers";
    case ErrorCode::BadPermissions: return "BadPermissions";
    case ErrorCode::TooSmall: return "TooSmall";
    case ErrorCode::BadMagic: return "BadMagic";
    case ErrorCode::VersionMismatch: return "VersionMismatch";
    case ErrorCode::BadHeaderBytes: return "BadHeaderBytes";
    case ErrorCode::RegionSizeMismatch: return "RegionSizeMismatch";
    case ErrorCode::BadLaneCount: return "BadLaneCount";
    case ErrorCode::BadLaneTableOffset: return "BadLaneTableOffset";
    case ErrorCode::BadDescriptorBytes: return "BadDescriptorBytes";
    case ErrorCode::ReservedNotZero: return "ReservedNotZero";
    case ErrorCode::BadFlags: return "BadFlags";
    case ErrorCode::NotReady: return "NotReady";
    case ErrorCode::Stale: return "Stale";
    case ErrorCode::ChecksumMismatch: return "ChecksumMismatch";
    case ErrorCode::BadLaneKind: return "BadLaneKind";
    case ErrorCode::UnsupportedLaneKind: return "UnsupportedLaneKind";
    case ErrorCode::BadOnFull: return "BadOnFull";
    case ErrorCode::BadCapacity: return "BadCapacity";
    case ErrorCode::BadSlotBytes: return "BadSlotBytes";
    case ErrorCode::BadReaderCount: return "BadReaderCount";
    case ErrorCode::BlockMisaligned: return "BlockMisaligned";
    case ErrorCode::BlockOutOfBounds: return "BlockOutOfBounds";
    case ErrorCode::BadBlockBytes: return "BadBlockBytes";
    case ErrorCode::BlocksOverlap: return "BlocksOverlap";
    case ErrorCode::LaneStateCorrupt: return "LaneStateCorrupt";
    case ErrorCode::BadReaderTimeout: return "BadReaderTimeout";
    case ErrorCode::BadGating: return "BadGating";
    case ErrorCode::LaneIndexOutOfRange: return "LaneIndexOutOfRange";
    case ErrorCode::WrongLaneKind: return "WrongLaneKind";
    case ErrorCode::RoleTaken: return "RoleTaken";
    case ErrorCode::NoFreeReader: return "NoFreeReader";
    case ErrorCode::BadReaderName: return "BadReaderName";
    case ErrorCode::BadReaderIndex: return "BadReaderIndex";
    case ErrorCode::BadTopology: return "BadTopology";
  }
  return "Unknown";
}

}  // namespace indexbus
