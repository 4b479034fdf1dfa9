using System.CommandLine;
using System.Globalization;
using EquiSharp.Applications.Images.Formats;
using EquiSharp.Applications.Images.Models;

namespace EquiSharp.Cli.Commands;

/// <summary><c>equisharp cifar info | train</c>: All-CNN-C (Springenberg et al. 2014) in Z2, p4 and p4m variants on CIFAR-10.</summary>
public sealed class CifarCommand : ICliCommand
{
    private static readonly string[] Models = { "allcnn-z2", "allcnn-p4", "allcnn-p4m" };

    public Command Build() => new("cifar", "CIFAR-10 with All-CNN-C in Z2, p4 and p4m variants (Cohen & Welling 2016; the p4/p4m paper's appendix C).")
    {
        Info(),
        ImageTrainCommand.Create(ImageDataSet.Cifar10Kind, "allcnn-z2, allcnn-p4 or allcnn-p4m.", "allcnn-p4",
            "Directory of the CIFAR-10 binary version (data_batch_1.bin … data_batch_5.bin, test_batch.bin; the last 10% of the training records are the dev split).",
            "Train All-CNN-C (Z2, p4 or p4m) on CIFAR-10 (progress bar, atomic checkpoints, curves, test report)."),
    };

    private static Command Info()
    {
        var command = new Command("info", "The All-CNN-C variants: group, width, free parameters and parameters of the equivalent plain CNN.");
        command.SetAction(_ =>
        {
            Console.WriteLine($"{"model",-11}  {"group",-5}  {"width",9}  {"free_params",11}  {"dense_params",12}");
            foreach (var name in Models)
            {
                using var net = PlanarCnnSpec.Preset(name).Build(TorchSharp.torch.CPU);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name,-11}  {net.Group.Name,-5}  {$"{net.Spec.Width}/{2 * net.Spec.Width}",9}  {net.FreeParameterCount,11:N0}  {net.DenseParameterCount(),12:N0}"));
            }
            Console.WriteLine("width: channels per group element in the first / second stage; the strided layers use 4x4 windows (see AllCnnC)");
            return 0;
        });
        return command;
    }
}
