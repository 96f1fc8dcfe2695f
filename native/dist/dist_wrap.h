// Bindings of the distributed part: process groups (dist/process_group_wrap.h) and
//   [async] ringAttention(group, {q, k, v, gradOut?, tile?}) -> Promise<{out, dq?, dk?, dv?}>
//           this rank's zigzag chunks [B, 2c, H, D] (attention/ring_attention.h); gradients of
//           sum(out * gradOut) when gradOut is given. Every rank of the group calls it together.
#pragma once

#include <napi.h>

namespace longrope {

void InitDist(Napi::Env env, Napi::Object exports);

}  // namespace longrope
