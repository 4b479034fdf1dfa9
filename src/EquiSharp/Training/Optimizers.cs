using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Training;

/// <summary>
/// The optimizers every application trains with: TorchSharp's Adam and SGD with the same update, the same state and the
/// same checkpoint format, but each step's scalars held alive until their native call returns.
/// </summary>
/// <remarks>
/// TorchSharp's own <c>step()</c> passes implicitly converted <see cref="Scalar"/>s (e.g. <c>alpha: 1 - beta1</c>) to native
/// code; once their handle is read the .NET object is unreachable, and a garbage collection triggered meanwhile can
/// finalize (free) the native scalar while libtorch reads it. A protein run hit this after 34 epochs ("Expected false to
/// be true" from <c>c10::Scalar::toFloat</c> inside <c>Adam.step</c>). Here every scalar is a <c>using</c> local, which keeps it
/// reachable (and frees it deterministically) until after the call. The arithmetic is TorchSharp's, op for op, so
/// parameters are bit-identical (tests compare the two over several steps) and old checkpoints load unchanged.
/// </remarks>
public static class Optimizers
{
    /// <summary>Adam with L2 penalty added to the gradient (PyTorch's <c>torch.optim.Adam</c> semantics); β₁ = 0.5 for GANs, as in DCGAN.</summary>
    public static OptimizerHelper Adam(IEnumerable<Parameter> parameters, double lr = 1e-3, double weightDecay = 0, double beta1 = 0.9) =>
        new ScalarSafe.Adam(parameters, lr, weightDecay, beta1);

    /// <summary>SGD with optional (non-Nesterov) momentum, no dampening or weight decay.</summary>
    public static OptimizerHelper Sgd(IEnumerable<Parameter> parameters, double lr, double momentum = 0) =>
        new ScalarSafe.SGD(parameters, lr, momentum);

    /// <summary>Named like TorchSharp's classes: a checkpoint records the optimizer's type name and is checked against it on load.</summary>
    private static class ScalarSafe
    {
        public sealed class Adam(IEnumerable<Parameter> parameters, double lr, double weightDecay, double beta1)
            : TorchSharp.Modules.Adam(parameters, lr, beta1: beta1, weight_decay: weightDecay)
        {
            public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
            {
                var o = (Options)group.Options;
                double beta1 = o.beta1!.Value, beta2 = o.beta2!.Value, weightDecay = o.weight_decay!.Value, eps = o.eps!.Value;
                if (o.amsgrad!.Value || o.maximize!.Value) throw new NotSupportedException("amsgrad and maximize are not used here");
                double lr = o.LearningRate!.Value;
                using var oneMinusBeta1 = (1 - beta1).ToScalar();
                using var oneMinusBeta2 = (1 - beta2).ToScalar();
                using var beta1Scalar = beta1.ToScalar();
                using var beta2Scalar = beta2.ToScalar();
                using var epsScalar = eps.ToScalar();
                using var decay = weightDecay.ToScalar();
                foreach (var param in group.Parameters)
                {
                    var state = (State)_state[param.Handle];
                    var grad = param.grad;
                    if (grad is null) continue;
                    state.step += 1;
                    double biasCorrection1 = 1 - Math.Pow(beta1, state.step);
                    double biasCorrection2 = 1 - Math.Pow(beta2, state.step);
                    if (weightDecay != 0) grad = grad.add(param, alpha: decay);
                    state.exp_avg.mul_(beta1Scalar).add_(grad, alpha: oneMinusBeta1);
                    state.exp_avg_sq.mul_(beta2Scalar).addcmul_(grad, grad.conj(), value: oneMinusBeta2);
                    using var sqrtCorrection2 = Math.Sqrt(biasCorrection2).ToScalar();
                    var denom = (state.exp_avg_sq.sqrt() / sqrtCorrection2).add_(epsScalar, KeptScalar.One);
                    using var negativeStepSize = (-(lr / biasCorrection1)).ToScalar();
                    param.addcdiv_(state.exp_avg, denom, value: negativeStepSize);
                }
            }, closure);
        }

        public sealed class SGD(IEnumerable<Parameter> parameters, double lr, double momentum)
            : TorchSharp.Modules.SGD(parameters, lr, momentum: momentum)
        {
            public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
            {
                var o = (Options)group.Options;
                double momentum = o.momentum!.Value;
                if (o.dampening!.Value != 0 || o.weight_decay!.Value != 0 || o.nesterov!.Value || o.maximize!.Value)
                    throw new NotSupportedException("dampening, weight decay, Nesterov and maximize are not used here");
                using var momentumScalar = momentum.ToScalar();
                using var one = 1.0.ToScalar();
                using var negativeLr = (-o.LearningRate!.Value).ToScalar();
                foreach (var param in group.Parameters)
                {
                    var state = (State)_state[param.Handle];
                    var grad = param.grad;
                    if (grad is null) continue;
                    if (momentum != 0)
                    {
                        if (state.momentum_buffer is null)
                            state.momentum_buffer = grad.clone().detach().DetachFromDisposeScope();
                        else
                            state.momentum_buffer.mul_(momentumScalar).add_(grad, alpha: one);
                        grad = state.momentum_buffer;
                    }
                    param.add_(grad, alpha: negativeLr);
                }
            }, closure);
        }
    }
}
