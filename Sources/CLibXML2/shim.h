#ifndef ACCORD_CLIBXML2_SHIM_H
#define ACCORD_CLIBXML2_SHIM_H
// libxml2's SAX2 push parser, the same libxml2 Foundation's XMLParser uses:
// the IATI import reads activity files through it (Journal/Import.md, "Reading the XML").
#include <libxml/xmlversion.h>
// Debian's libxml2 is built with ICU, and its encoding.h then includes the system's ICU headers,
// whose enums clash with Foundation's own copy (_FoundationICU) in one Swift module. Accord never
// touches libxml2's encoding handlers (only pointers to them, inside libxml2), so their ICU
// members are left out of this view; libxml2 itself still converts encodings as built.
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/SAX2.h>
#include <libxml/xmlerror.h>
#endif
