#include <libxml/xmlversion.h>
/* Debian's libxml2 is built with ICU; its encoding header would pull in the
   system ICU headers, which clash with Foundation's own ICU module. Haven
   does not touch the ICU parts (only pointers to them sit in the structs it
   reads), so they are left out. */
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
