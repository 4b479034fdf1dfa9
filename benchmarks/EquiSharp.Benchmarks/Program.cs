using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// In-process: BenchmarkDotNet's default toolchain builds a separate copy of this project for every run, and that copy
// would carry TorchSharp's unpatched native shim (see build/PatchLibTorchSharp.targets); this process has the patched one.
// The same native-memory policy as the CLI (reuse freed blocks instead of page-faulting fresh ones).
EquiSharp.Runtime.NativeAllocator.RetainFreedMemory();
// Every class has a Baseline, so the summary's Ratio column is measured side by side in one run.
var config = ManualConfig.Create(DefaultConfig.Instance)
    .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(3).WithIterationCount(15).WithInvocationCount(1).WithUnrollFactor(1))
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
