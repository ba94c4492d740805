/* Empty: the shared object pave_runtime_so exists to measure the runtime's stripped size
 * (every object of the static library is linked in whole). */
#include "pave/vm.h"
