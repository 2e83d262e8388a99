/* version.h — the one place the version is written. */
#ifndef TELREP_VERSION_H
#define TELREP_VERSION_H
#define TELREP_VERSION "0.1.0"
#endif
