// A thread with a large stack, for work that recurses as deep as untrusted input nests
// (the parser and the AST conversion). The stack is reserved, not committed: untouched
// pages cost nothing.
#pragma once

#include <pthread.h>

#include <functional>
#include <utility>

namespace pave {

class BigStackThread {
 public:
  static constexpr size_t kDefaultStack = 256u << 20;

  /// Starts `fn` on a new thread; check started(), since creation can fail.
  explicit BigStackThread(std::function<void()> fn, size_t stackBytes = kDefaultStack) : fn_(std::move(fn)) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, stackBytes);
    started_ = pthread_create(&thread_, &attr, &BigStackThread::run, this) == 0;
    pthread_attr_destroy(&attr);
  }
  BigStackThread(const BigStackThread&) = delete;
  BigStackThread& operator=(const BigStackThread&) = delete;
  ~BigStackThread() { join(); }

  bool started() const { return started_; }
  void join() {
    if (started_) pthread_join(thread_, nullptr);
    started_ = false;
  }

 private:
  static void* run(void* self) {
    static_cast<BigStackThread*>(self)->fn_();
    return nullptr;
  }
  std::function<void()> fn_;
  pthread_t thread_{};
  bool started_ = false;
};

}  // namespace pave
