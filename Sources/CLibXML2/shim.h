#ifndef ACCORD_CLIBXML2_SHIM_H
#define ACCORD_CLIBXML2_SHIM_H
// libxml2's streaming reader (xmlTextReader), the same libxml2 Foundation's XMLParser uses:
// the IATI import reads activity files through it (Journal/Import.md, "IATI activity files").
#include <libxml/parser.h>
#include <libxml/xmlreader.h>
#include <libxml/xmlerror.h>
#endif
