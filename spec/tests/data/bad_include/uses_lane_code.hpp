// Fixture for spec.include_check_rejects_lane_code: a model file that includes lane code, which
// check_model_includes.cmake must reject. Never compiled.
#pragma once
#include "indexbus/vocabulary.hpp"
#include "indexbus/events.hpp"
