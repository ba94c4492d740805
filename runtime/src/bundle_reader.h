// Internal: decoding of one bundle section into the model.
#pragma once

#include <cstdint>
#include <string>

#include "pave/bundle.h"

namespace pave::rt {

// `minor`: the bundle's format minor version (what a section holds depends on it).
bool decodeSection(uint32_t id, const uint8_t* data, size_t size, uint16_t minor, Bundle& b, std::string* error);

// verifier.cpp: checks every index of the model and every function. False with a message.
bool verifyBundle(const Bundle& b, std::string* error);

}  // namespace pave::rt
