using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// In-process: BenchmarkDotNet's default toolchain generates and builds a separate project for every run (minutes on
// 2 cores), and its output would need the native-shim patch again (build/PatchLibTorchSharp.targets); this process
// already runs from the patched build output.
if (args.Length > 0 && args[0] == "scalar-race") return EquiSharp.Benchmarks.ScalarFinalizerRace.Run(args[1..]);

// The same native-memory policy as the CLI (reuse freed blocks instead of page-faulting fresh ones).
EquiSharp.Runtime.NativeAllocator.RetainFreedMemory();
// Every class has a Baseline, so the summary's Ratio column is measured side by side in one run.
var config = ManualConfig.Create(DefaultConfig.Instance)
    .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(3).WithIterationCount(15).WithInvocationCount(1).WithUnrollFactor(1))
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
return 0;
