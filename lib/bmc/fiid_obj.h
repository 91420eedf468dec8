// Internal to libstorkit: an owner for libfreeipmi's message objects.
#pragma once

#include <freeipmi/freeipmi.h>

#include <memory>
#include <type_traits>

namespace storkit {

struct FiidDeleter {
    void operator()(fiid_obj_t obj) const { fiid_obj_destroy(obj); }
};
using FiidObj = std::unique_ptr<std::remove_pointer_t<fiid_obj_t>, FiidDeleter>;

}  // namespace storkit
