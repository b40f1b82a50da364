// A plain tanh LSTM layer over T steps as two TensorFlow ops (forward and its
// gradient), float32, CPU: the equations of tf_lstm/unroll/lstm_layer.py
// (BasicLSTMCell's step), proven equal to it by tests/test_native_lstm.py.
//
// Why: composed from TensorFlow ops a 1 x 128 layer runs ~15 ops per step, each
// a few microseconds of dispatch, and oneDNN's products at these sizes use one
// core each.  Here the batch rows are independent chains: each of the intra-op
// threads takes a block of rows through all T steps with its own single-thread
// Eigen products, and only the weight gradient is summed over the blocks.
//
// Forward, per step (W = kernel [D+N, 4N], gates i, j, f, o):
//   a = [x_t, h_{t-1}] W + b;  i, f, o = sig(a_i), sig(a_f + forget_bias), sig(a_o)
//   j = tanh(a_j);  c_t = f c_{t-1} + i j;  h_t = o tanh(c_t)
// Backward, t = T-1 .. 0 (dh includes the recurrent part):
//   dc = dc_{t+1} f_{t+1} + dh o (1 - tanh(c_t)^2)
//   dg = [dc j i(1-i), dc i (1-j^2), dc c_{t-1} f(1-f), dh tanh(c_t) o(1-o)]
//   [dx_t, dh_{t-1}] = dg W^T;  dW += [x_t, h_{t-1}]^T dg;  db += sum_rows dg
// (dx_t only where an op reads it: zeros otherwise).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "Eigen/Core"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"
#include "tensorflow/core/platform/blocking_counter.h"
#include "tensorflow/core/platform/threadpool.h"

namespace tf_lstm {
namespace {

using ::tensorflow::OpKernel;
using ::tensorflow::OpKernelConstruction;
using ::tensorflow::OpKernelContext;
using ::tensorflow::OpInputList;
using ::tensorflow::OpOutputList;
using ::tensorflow::Tensor;
using ::tensorflow::TensorShape;
using ::tensorflow::errors::InvalidArgument;
using ::tensorflow::shape_inference::DimensionHandle;
using ::tensorflow::shape_inference::InferenceContext;
using ::tensorflow::shape_inference::ShapeHandle;

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixMap = Eigen::Map<Matrix>;
using ConstMatrixMap = Eigen::Map<const Matrix>;
using Array = Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Rows per block below which a block's products lose more than a thread wins.
constexpr int kMinRowsPerBlock = 32;

// Rows of tensor t ([B, cols], row-major) from `row`, as a matrix.
ConstMatrixMap Rows(const Tensor& t, int row, int rows, int cols) {
  return ConstMatrixMap(t.flat<float>().data() + static_cast<int64_t>(row) * cols, rows, cols);
}
MatrixMap Rows(Tensor* t, int row, int rows, int cols) {
  return MatrixMap(t->flat<float>().data() + static_cast<int64_t>(row) * cols, rows, cols);
}

// One block of rows per intra-op thread, each of kMinRowsPerBlock rows or more.
int NumBlocks(OpKernelContext* ctx, int batch) {
  const int threads = ctx->device()->tensorflow_cpu_worker_threads()->workers->NumThreads();
  return std::max(1, std::min(threads, batch / kMinRowsPerBlock));
}

// One call's row blocks, claimed one at a time by whichever thread comes first.
// Held by shared_ptr: a helper may still hold it after the op has returned
// (then it finds no block left and never calls `work`, whose captures are gone).
struct RowBlocks {
  RowBlocks(int batch, int blocks, std::function<void(int, int, int)> work)
      : batch(batch), blocks(blocks), work(std::move(work)), done(blocks) {}
  void Take() {
    for (int k; (k = next.fetch_add(1)) < blocks;) {
      const int row = static_cast<int>(static_cast<int64_t>(batch) * k / blocks);
      const int end = static_cast<int>(static_cast<int64_t>(batch) * (k + 1) / blocks);
      work(row, end - row, k);
      done.DecrementCount();
    }
  }
  const int batch, blocks;
  const std::function<void(int, int, int)> work;
  std::atomic<int> next{0};
  ::tensorflow::BlockingCounter done;
};

// Pool tasks that stay awake for a while after a call, so that the next call's
// blocks start at once: a parked pool thread took 0.4-0.7 ms to start its block
// (measured inside the op, 2-core VM), which the caller then waited for.
class Helpers {
 public:
  static Helpers& Get() {
    static Helpers* helpers = new Helpers;   // never destroyed: tasks may outlive exit
    return *helpers;
  }
  // Offers `job` to the helpers now awake.
  void Publish(const std::shared_ptr<RowBlocks>& job) {
    std::atomic_store(&job_, job);
    generation_.fetch_add(1);
  }
  // Keeps up to `count` pool threads awake for kAwake after this call.
  void KeepAwake(::tensorflow::thread::ThreadPool* workers, int count) {
    for (int i = 0; i < count; ++i) {
      if (awake_.fetch_add(1) >= count) {
        awake_.fetch_sub(1);
        return;
      }
      workers->Schedule([this] { Watch(); });
    }
  }

 private:
  static constexpr auto kAwake = std::chrono::milliseconds(3);
  void Watch() {
    using Clock = std::chrono::steady_clock;
    uint64_t seen = generation_.load();
    for (auto until = Clock::now() + kAwake; Clock::now() < until;) {
      if (generation_.load() != seen) {
        seen = generation_.load();
        if (auto job = std::atomic_load(&job_)) job->Take();
        until = Clock::now() + kAwake;
      }
      std::this_thread::yield();   // runnable threads of this process go first
    }
    awake_.fetch_sub(1);
  }
  std::shared_ptr<RowBlocks> job_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> awake_{0};
};

// Runs work(first_row, num_rows, block) for `blocks` blocks of [0, batch) on the
// intra-op threads.  The calling thread takes blocks too, and waits only for
// blocks another thread has begun: a pool thread still busy elsewhere (or none
// at all) never holds the op up.  Helpers kept awake by the previous call take
// blocks first; tasks scheduled now take what they leave.
void RunRowBlocks(OpKernelContext* ctx, int batch, int blocks,
                  std::function<void(int, int, int)> work) {
  auto* workers = ctx->device()->tensorflow_cpu_worker_threads()->workers;
  auto job = std::make_shared<RowBlocks>(batch, blocks, std::move(work));
  Helpers& helpers = Helpers::Get();
  if (blocks > 1) helpers.Publish(job);
  for (int k = 1; k < blocks; ++k) workers->Schedule([job] { job->Take(); });
  job->Take();
  job->done.Wait();
  if (blocks > 1) helpers.KeepAwake(workers, blocks - 1);
}

// Checks the shapes shared by both ops; sets batch, depth, units.
::tensorflow::Status CheckShapes(const OpInputList& x, const Tensor& c0, const Tensor& h0,
                                 const Tensor& kernel, int* batch, int* depth, int* units) {
  if (kernel.dims() != 2 || kernel.dim_size(1) % 4 != 0 || kernel.dim_size(1) == 0) {
    return InvalidArgument("kernel must be [input_depth + num_units, 4 * num_units], got ",
                           kernel.shape().DebugString());
  }
  *units = static_cast<int>(kernel.dim_size(1) / 4);
  *depth = static_cast<int>(kernel.dim_size(0)) - *units;
  if (*depth < 0) {
    return InvalidArgument("kernel has ", kernel.dim_size(0), " rows, fewer than num_units ",
                           *units);
  }
  if (c0.dims() != 2 || c0.dim_size(1) != *units || c0.shape() != h0.shape()) {
    return InvalidArgument("c0 and h0 must both be [batch, ", *units, "], got ",
                           c0.shape().DebugString(), " and ", h0.shape().DebugString());
  }
  *batch = static_cast<int>(c0.dim_size(0));
  for (int t = 0; t < x.size(); ++t) {
    if (x[t].dims() != 2 || x[t].dim_size(0) != *batch || x[t].dim_size(1) != *depth) {
      return InvalidArgument("x[", t, "] must be [", *batch, ", ", *depth, "] (the kernel's ",
                             "input rows), got ", x[t].shape().DebugString());
    }
  }
  return ::tensorflow::OkStatus();
}

class LstmLayerOp : public OpKernel {
 public:
  explicit LstmLayerOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("forget_bias", &forget_bias_));
  }

  void Compute(OpKernelContext* ctx) override {
    OpInputList x;
    OP_REQUIRES_OK(ctx, ctx->input_list("x", &x));
    const Tensor& c0 = ctx->input(x.size());
    const Tensor& h0 = ctx->input(x.size() + 1);
    const Tensor& kernel = ctx->input(x.size() + 2);
    const Tensor& bias = ctx->input(x.size() + 3);
    int batch, depth, units;
    OP_REQUIRES_OK(ctx, CheckShapes(x, c0, h0, kernel, &batch, &depth, &units));
    OP_REQUIRES(ctx, bias.dims() == 1 && bias.dim_size(0) == 4 * units,
                InvalidArgument("bias must be [", 4 * units, "], got ",
                                bias.shape().DebugString()));
    const int steps = x.size(), n = units, width = depth + units;
    OpOutputList h;
    OP_REQUIRES_OK(ctx, ctx->output_list("h", &h));
    std::vector<Tensor*> hs(steps);
    for (int t = 0; t < steps; ++t) {
      OP_REQUIRES_OK(ctx, h.allocate(t, TensorShape({batch, n}), &hs[t]));
    }
    Tensor *c_out, *acts, *cs;
    OP_REQUIRES_OK(ctx, ctx->allocate_output("c", TensorShape({batch, n}), &c_out));
    OP_REQUIRES_OK(ctx, ctx->allocate_output("acts", TensorShape({steps, batch, 5 * n}), &acts));
    OP_REQUIRES_OK(ctx, ctx->allocate_output("cs", TensorShape({steps, batch, n}), &cs));
    ConstMatrixMap w(kernel.flat<float>().data(), width, 4 * n);
    Eigen::Map<const Eigen::RowVectorXf> b(bias.flat<float>().data(), 4 * n);
    const float forget_bias = forget_bias_;

    RunRowBlocks(ctx, batch, NumBlocks(ctx, batch), [&](int row, int rows, int) {
      Matrix xh(rows, width), a(rows, 4 * n);
      Array c = Rows(c0, row, rows, n).array();
      xh.rightCols(n) = Rows(h0, row, rows, n);
      for (int t = 0; t < steps; ++t) {
        xh.leftCols(depth) = Rows(x[t], row, rows, depth);
        a.noalias() = xh * w;
        a.rowwise() += b;
        // acts_t: [i, j, f, o, tanh(c_t)] for the gradient.
        MatrixMap act(acts->flat<float>().data() + (static_cast<int64_t>(t) * batch + row) * 5 * n,
                      rows, 5 * n);
        auto i = act.leftCols(n), j = act.middleCols(n, n), f = act.middleCols(2 * n, n),
             o = act.middleCols(3 * n, n), tc = act.rightCols(n);
        i = a.leftCols(n).array().logistic().matrix();
        j = a.middleCols(n, n).array().tanh().matrix();
        f = (a.middleCols(2 * n, n).array() + forget_bias).logistic().matrix();
        o = a.middleCols(3 * n, n).array().logistic().matrix();
        c = f.array() * c + i.array() * j.array();
        tc = c.tanh().matrix();
        MatrixMap h_t = Rows(hs[t], row, rows, n);
        h_t = (o.array() * tc.array()).matrix();
        Rows(cs, t * batch + row, rows, n) = c.matrix();
        xh.rightCols(n) = h_t;
      }
      Rows(c_out, row, rows, n) = c.matrix();
    });
  }

 private:
  float forget_bias_;
};

class LstmLayerGradOp : public OpKernel {
 public:
  explicit LstmLayerGradOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}

  void Compute(OpKernelContext* ctx) override {
    OpInputList x, h, dh;
    OP_REQUIRES_OK(ctx, ctx->input_list("x", &x));
    OP_REQUIRES_OK(ctx, ctx->input_list("h", &h));
    OP_REQUIRES_OK(ctx, ctx->input_list("dh", &dh));
    const Tensor& c0 = ctx->input(x.size());
    const Tensor& h0 = ctx->input(x.size() + 1);
    const Tensor& kernel = ctx->input(x.size() + 2);
    const Tensor& acts = ctx->input(2 * x.size() + 3);
    const Tensor& cs = ctx->input(2 * x.size() + 4);
    const Tensor& dc_in = ctx->input(3 * x.size() + 5);
    int batch, depth, units;
    OP_REQUIRES_OK(ctx, CheckShapes(x, c0, h0, kernel, &batch, &depth, &units));
    const int steps = x.size(), n = units, width = depth + units;
    const TensorShape state({batch, n});
    OP_REQUIRES(ctx, acts.shape() == TensorShape({steps, batch, 5 * n}) &&
                     cs.shape() == TensorShape({steps, batch, n}),
                InvalidArgument("acts and cs must be the forward op's, got ",
                                acts.shape().DebugString(), " and ", cs.shape().DebugString()));
    // An empty upstream gradient stands for zeros (an output nothing used).
    for (int t = 0; t < steps; ++t) {
      OP_REQUIRES(ctx,
                  h[t].shape() == state && (dh[t].shape() == state || dh[t].NumElements() == 0),
                  InvalidArgument("h[", t, "] and dh[", t, "] must be ", state.DebugString(),
                                  " (dh may be empty), got ", h[t].shape().DebugString(), " and ",
                                  dh[t].shape().DebugString()));
    }
    OP_REQUIRES(ctx, dc_in.shape() == state || dc_in.NumElements() == 0,
                InvalidArgument("dc must be ", state.DebugString(), " or empty, got ",
                                dc_in.shape().DebugString()));
    OpOutputList dx;
    OP_REQUIRES_OK(ctx, ctx->output_list("dx", &dx));
    std::vector<Tensor*> dxs(steps);
    for (int t = 0; t < steps; ++t) {
      OP_REQUIRES_OK(ctx, dx.allocate(t, TensorShape({batch, depth}), &dxs[t]));
    }
    Tensor *dc0, *dh0, *dkernel, *dbias;
    OP_REQUIRES_OK(ctx, ctx->allocate_output("dc0", state, &dc0));
    OP_REQUIRES_OK(ctx, ctx->allocate_output("dh0", state, &dh0));
    OP_REQUIRES_OK(ctx, ctx->allocate_output("dkernel", kernel.shape(), &dkernel));
    OP_REQUIRES_OK(ctx, ctx->allocate_output("dbias", TensorShape({4 * n}), &dbias));
    ConstMatrixMap w(kernel.flat<float>().data(), width, 4 * n);
    // dx costs a product per step; skipped where nothing reads it (the first
    // layer of a model whose inputs are data).
    bool need_dx = false;
    for (int t = 0; t < steps; ++t) need_dx = need_dx || ctx->output_required(t);
    // W^T split by the rows of [x, h], copied row-major once: the per-step
    // products then read them with unit stride (w.transpose() does not).
    const Matrix wh_t = w.bottomRows(n).transpose();
    const Matrix wx_t = need_dx ? Matrix(w.topRows(depth).transpose()) : Matrix();
    const int blocks = NumBlocks(ctx, batch);
    std::vector<Matrix> dw(blocks);   // per block, summed at the end
    std::vector<Eigen::RowVectorXf> db(blocks);

    RunRowBlocks(ctx, batch, blocks, [&](int row, int rows, int k) {
      Matrix xh(rows, width), dg(rows, 4 * n), dh_rec = Matrix::Zero(rows, n);
      Array dc = dc_in.NumElements() ? Array(Rows(dc_in, row, rows, n).array())
                                     : Array::Zero(rows, n);
      dw[k] = Matrix::Zero(width, 4 * n);
      db[k] = Eigen::RowVectorXf::Zero(4 * n);
      for (int t = steps - 1; t >= 0; --t) {
        ConstMatrixMap act(
            acts.flat<float>().data() + (static_cast<int64_t>(t) * batch + row) * 5 * n, rows,
            5 * n);
        auto i = act.leftCols(n).array(), j = act.middleCols(n, n).array(),
             f = act.middleCols(2 * n, n).array(), o = act.middleCols(3 * n, n).array(),
             tc = act.rightCols(n).array();
        Array d_h = dh_rec.array();
        if (dh[t].NumElements()) d_h += Rows(dh[t], row, rows, n).array();
        const ConstMatrixMap c_prev = t ? Rows(cs, (t - 1) * batch + row, rows, n)
                                        : Rows(c0, row, rows, n);
        dc += d_h * o * (1.0f - tc * tc);
        dg.leftCols(n) = (dc * j * i * (1.0f - i)).matrix();
        dg.middleCols(n, n) = (dc * i * (1.0f - j * j)).matrix();
        dg.middleCols(2 * n, n) = (dc * c_prev.array() * f * (1.0f - f)).matrix();
        dg.rightCols(n) = (d_h * tc * o * (1.0f - o)).matrix();
        dc *= f;
        dh_rec.noalias() = dg * wh_t;
        MatrixMap dx_t = Rows(dxs[t], row, rows, depth);
        if (need_dx) {
          dx_t.noalias() = dg * wx_t;
        } else {
          dx_t.setZero();
        }
        xh.leftCols(depth) = Rows(x[t], row, rows, depth);
        xh.rightCols(n) = t ? Rows(h[t - 1], row, rows, n) : Rows(h0, row, rows, n);
        dw[k].noalias() += xh.transpose() * dg;
        db[k] += dg.colwise().sum();
      }
      Rows(dc0, row, rows, n) = dc.matrix();
      Rows(dh0, row, rows, n) = dh_rec;
    });
    MatrixMap dw_out(dkernel->flat<float>().data(), width, 4 * n);
    Eigen::Map<Eigen::RowVectorXf> db_out(dbias->flat<float>().data(), 4 * n);
    dw_out = dw[0];
    db_out = db[0];
    for (int k = 1; k < blocks; ++k) {
      dw_out += dw[k];
      db_out += db[k];
    }
  }
};

// Shape functions: only what the op's own checks do not cover at run time.
::tensorflow::Status LayerShape(InferenceContext* c) {
  int steps;
  TF_RETURN_IF_ERROR(c->GetAttr("num_steps", &steps));
  ShapeHandle state;
  TF_RETURN_IF_ERROR(c->WithRank(c->input(steps), 2, &state));
  TF_RETURN_IF_ERROR(c->Merge(state, c->input(steps + 1), &state));
  DimensionHandle batch = c->Dim(state, 0), units = c->Dim(state, 1);
  for (int t = 0; t < steps; ++t) c->set_output(t, state);
  c->set_output(steps, state);
  DimensionHandle five_n;
  TF_RETURN_IF_ERROR(c->Multiply(units, 5, &five_n));
  c->set_output(steps + 1, c->MakeShape({c->MakeDim(steps), batch, five_n}));
  c->set_output(steps + 2, c->MakeShape({c->MakeDim(steps), batch, units}));
  return ::tensorflow::OkStatus();
}

::tensorflow::Status LayerGradShape(InferenceContext* c) {
  int steps;
  TF_RETURN_IF_ERROR(c->GetAttr("num_steps", &steps));
  for (int t = 0; t < steps; ++t) c->set_output(t, c->input(t));
  c->set_output(steps, c->input(steps));           // dc0 like c0
  c->set_output(steps + 1, c->input(steps + 1));   // dh0 like h0
  c->set_output(steps + 2, c->input(steps + 2));   // dkernel like kernel
  ShapeHandle kernel = c->input(steps + 2);
  DimensionHandle cols = c->RankKnown(kernel) ? c->Dim(kernel, 1) : c->UnknownDim();
  c->set_output(steps + 3, c->Vector(cols));
  return ::tensorflow::OkStatus();
}

}  // namespace

REGISTER_OP("TfLstmLayer")
    .Input("x: num_steps * float")
    .Input("c0: float")
    .Input("h0: float")
    .Input("kernel: float")
    .Input("bias: float")
    .Output("h: num_steps * float")
    .Output("c: float")
    .Output("acts: float")
    .Output("cs: float")
    .Attr("num_steps: int >= 1")
    .Attr("forget_bias: float = 1.0")
    .SetShapeFn(LayerShape)
    .Doc("A plain tanh LSTM layer over num_steps steps (tf_lstm).");

REGISTER_OP("TfLstmLayerGrad")
    .Input("x: num_steps * float")
    .Input("c0: float")
    .Input("h0: float")
    .Input("kernel: float")
    .Input("h: num_steps * float")
    .Input("acts: float")
    .Input("cs: float")
    .Input("dh: num_steps * float")
    .Input("dc: float")
    .Output("dx: num_steps * float")
    .Output("dc0: float")
    .Output("dh0: float")
    .Output("dkernel: float")
    .Output("dbias: float")
    .Attr("num_steps: int >= 1")
    .SetShapeFn(LayerGradShape)
    .Doc("The gradient of TfLstmLayer (tf_lstm).");

REGISTER_KERNEL_BUILDER(Name("TfLstmLayer").Device(::tensorflow::DEVICE_CPU), LstmLayerOp);
REGISTER_KERNEL_BUILDER(Name("TfLstmLayerGrad").Device(::tensorflow::DEVICE_CPU), LstmLayerGradOp);

}  // namespace tf_lstm
