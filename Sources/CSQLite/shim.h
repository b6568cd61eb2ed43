#ifndef MESHGATE_CSQLITE_SHIM_H
#define MESHGATE_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif
