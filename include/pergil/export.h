// export.h: PERGIL_API marks the classes and functions that the library pergil exports.
#pragma once

// libpergil is built with hidden visibility: only what carries PERGIL_API is visible to hosts
// (the engine inside it stays private). Exception classes carry it too, so that their type
// information is shared and a host can catch them.
#if defined(PERGIL_STATIC)
#define PERGIL_API
#elif defined(_WIN32)
#if defined(PERGIL_BUILDING_LIBRARY)
#define PERGIL_API __declspec(dllexport)
#else
#define PERGIL_API __declspec(dllimport)
#endif
#else
#define PERGIL_API __attribute__((visibility("default")))
#endif
