#ifndef HAVEN_CLIBUSB_SHIM_H
#define HAVEN_CLIBUSB_SHIM_H
// libusb-1.0 (pkg-config libusb-1.0 adds -I/usr/include/libusb-1.0).
#include <libusb.h>
#endif
