// pergil.h: the whole C++ embedding API of pergil (values, errors, runtime, pools).
#pragma once

#include "pergil/errors.h"
#include "pergil/pool.h"
#include "pergil/runtime.h"
#include "pergil/value.h"
