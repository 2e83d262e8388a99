/* version.h — the one place the version is written. */
#ifndef TELREP_VERSION_H
#define TELREP_VERSION_H
#define TELREP_VERSION "0.1.0"

/* a build under a sanitizer says so in --version: timing figures of such a build measure the
 * sanitizer (tests loosen their bounds on it) */
#if defined(__SANITIZE_ADDRESS__)
#define TELREP_BUILD_NOTE " (AddressSanitizer)"
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TELREP_BUILD_NOTE " (AddressSanitizer)"
#endif
#endif
#ifndef TELREP_BUILD_NOTE
#define TELREP_BUILD_NOTE ""
#endif
#endif
