/* Stand-in for the macOS SDK's TargetConditionals.h, for check.sh only: ring's C includes it
 * under __APPLE__ to tell macOS from iOS. Never used for a build that links. */
#pragma once
#define TARGET_OS_MAC 1
#define TARGET_OS_OSX 1
#define TARGET_OS_IPHONE 0
#define TARGET_OS_IOS 0
#define TARGET_OS_TV 0
#define TARGET_OS_WATCH 0
#define TARGET_OS_SIMULATOR 0
