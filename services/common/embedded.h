/* Files embedded at build time by cmake/embed.cmake (NUL-terminated). */
#ifndef AURID_EMBEDDED_H
#define AURID_EMBEDDED_H

#include <stddef.h>

/* sql/NNN_*.sql in order; AURID_NMIGRATIONS of them (a compile definition). */
extern const unsigned char *const aurid_migrations[];
extern const size_t aurid_migrations_len[];

/* hal/keymap.default */
extern const unsigned char aurid_keymap_default[];
extern const size_t aurid_keymap_default_len;

/* The PSF2 console font (build option AURID_FONT), decompressed. */
extern const unsigned char aurid_font_psf[];
extern const size_t aurid_font_psf_len;

#endif
