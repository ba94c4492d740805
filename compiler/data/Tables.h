// Reading the tables of a checked program (SPEC §2.3): each table's data file, every row
// checked against the table's record type like input (§7.2), the rows sorted by key.
#pragma once

#include <string>

#include "diag/Diagnostic.h"
#include "sema/Program.h"
#include "source/Source.h"

namespace pave::data {

/// Reads the data file of every table of `program` (paths relative to the repository
/// `root`) and sets `TableInfo::data`. A problem is an `invalid-data` error: located in the
/// data file (added to `sources`, at the row's line) when the file could be read, else at
/// the table's path. Returns false when any table could not be read; its data stays null.
bool loadTables(sema::CheckedProgram& program, const std::string& root, SourceManager& sources,
                DiagnosticEngine& diags);

}  // namespace pave::data
