// Internal: decoding of one bundle section into the model.
#pragma once

#include <cstdint>
#include <string>

#include "pave/bundle.h"

namespace pave::rt {

bool decodeSection(uint32_t id, const uint8_t* data, size_t size, Bundle& b, std::string* error);

// verifier.cpp: checks every index of the model and every function. False with a message.
bool verifyBundle(const Bundle& b, std::string* error);

}  // namespace pave::rt
