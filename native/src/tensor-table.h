// The addon's tensor handle table: JavaScript refers to libtorch tensors by small integer ids.
// Ids of freed slots are reused, so `live()` is the exact number of native tensors held for JS.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace ssl {

class TensorTable {
 public:
  int64_t add(at::Tensor t) {
    live_++;
    if (!free_.empty()) {
      const int64_t id = free_.back();
      free_.pop_back();
      slots_[static_cast<size_t>(id)] = std::move(t);
      used_[static_cast<size_t>(id)] = true;
      return id;
    }
    slots_.push_back(std::move(t));
    used_.push_back(true);
    return static_cast<int64_t>(slots_.size() - 1);
  }

  const at::Tensor& get(int64_t id) const {
    check(id);
    return slots_[static_cast<size_t>(id)];
  }

  void remove(int64_t id) {
    check(id);
    slots_[static_cast<size_t>(id)] = at::Tensor();  // drops the reference now
    used_[static_cast<size_t>(id)] = false;
    free_.push_back(id);
    live_--;
  }

  int64_t live() const { return live_; }

 private:
  void check(int64_t id) const {
    if (id < 0 || static_cast<size_t>(id) >= slots_.size() || !used_[static_cast<size_t>(id)]) {
      throw std::runtime_error("no live tensor with id " + std::to_string(id));
    }
  }

  std::vector<at::Tensor> slots_;
  std::vector<bool> used_;
  std::vector<int64_t> free_;
  int64_t live_ = 0;
};

}  // namespace ssl
