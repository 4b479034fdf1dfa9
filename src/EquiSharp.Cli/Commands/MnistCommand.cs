using System.CommandLine;
using System.Globalization;
using EquiSharp.Applications.Images;
using EquiSharp.Applications.Images.Formats;
using EquiSharp.Applications.Images.Training;
using EquiSharp.Training;

namespace EquiSharp.Cli.Commands;

/// <summary><c>equisharp mnist build | train | eval | gan</c>: rotated MNIST with Z2CNN, P4CNN and P4MCNN (Cohen &amp; Welling 2016).</summary>
public sealed partial class MnistCommand : ICliCommand
{
    public Command Build() => new("mnist", "Rotated MNIST with group-equivariant CNNs (p4, p4m) and the plain Z2CNN baseline.") { BuildData(), Train(), Eval(), Gan() };

    private static Command BuildData()
    {
        var images = new Option<string>("--images") { Description = "IDX image file (plain or .gz), e.g. t10k-images-idx3-ubyte.gz.", Required = true };
        var labels = new Option<string>("--labels") { Description = "IDX label file (plain or .gz) of the same images.", Required = true };
        var outFile = new Option<string>("--out") { Description = "Data file to write (rotated train/dev/test splits and the upright test images).", Required = true };
        var train = new Option<int>("--train") { Description = "Training images.", DefaultValueFactory = _ => 7000 };
        var dev = new Option<int>("--dev") { Description = "Dev images (best-weights selection).", DefaultValueFactory = _ => 1000 };
        var test = new Option<int>("--test") { Description = "Test images.", DefaultValueFactory = _ => 2000 };
        var seed = CommonOptions.Seed();
        var command = new Command("build", "Split the images (seeded) into train/dev/test, rotate each by a random angle in [0, 2π) (bilinear), and write one data file.")
            { images, labels, outFile, train, dev, test, seed };
        command.SetAction(parse =>
        {
            var (imgs, labs) = MnistIdx.ReadPair(parse.GetValue(images)!, parse.GetValue(labels)!);
            var data = RotatedMnist.Build(imgs, labs, parse.GetValue(seed), parse.GetValue(train), parse.GetValue(dev), parse.GetValue(test));
            string path = parse.GetValue(outFile)!;
            data.Save(path);
            Console.WriteLine($"read {imgs.Count} images {imgs.Rows}x{imgs.Columns}; wrote {path}: " +
                string.Join(", ", data.Splits.Select(s => $"{s.Name} {s.Count}")) + $" (seed {data.Seed})");
            return 0;
        });
        return command;
    }

    private static Command Train() => ImageTrainCommand.Create(ImageDataSet.RotatedMnistKind, "z2cnn, p4cnn or p4mcnn.", "p4cnn",
        "Data file written by 'mnist build'.", "Train Z2CNN, P4CNN or P4MCNN on rotated MNIST (progress bar, atomic checkpoints, curves, test report).");

    private static Command Eval()
    {
        var modelDir = new Option<string>("--model") { Description = "Run directory written by 'mnist train'.", Required = true };
        var data = new Option<string>("--data") { Description = "Data file written by 'mnist build'.", Required = true };
        var split = new Option<string>("--split") { Description = "rotated (the rotated test images) or upright (the same images unrotated).", DefaultValueFactory = _ => "rotated" };
        var rotate90 = new Option<bool>("--rotate90") { Description = "Also report the largest |logit change| when each image is rotated by 90°, 180°, 270° (and mirrored, for p4m)." };
        var device = CommonOptions.Device();
        var command = new Command("eval", "Test accuracy and confusion matrix of a trained model (best dev weights); last line accuracy=<fraction>.")
            { modelDir, data, split, rotate90, device, CommonOptions.Threads(defaultThreads: 1) };
        command.SetAction(parse =>
        {
            string which = parse.GetValue(split)!.Trim().ToLowerInvariant() switch
            {
                "rotated" => RotatedMnist.Test, "upright" => RotatedMnist.TestUpright,
                var s => throw new ArgumentException($"--split {s}: expected rotated or upright."),
            };
            var dev = CommonOptions.ParseDevice(parse.GetValue(device)!);
            var set = RotatedMnist.Load(parse.GetValue(data)!).Split(which);
            var (model, weights) = ImageTrainRun.LoadTrained(parse.GetValue(modelDir)!, dev);
            using (model)
            {
                var group = model.Group.Order == 1 ? Layers.Group.PlanarGroup.P4 : model.Group;   // Z2CNN: measured under the rotations
                var r = ImageEvaluation.Evaluate(model, set, dev, transformGroup: parse.GetValue(rotate90) ? group : null);
                Console.WriteLine($"{model.Spec.Model} with {weights} on {which} ({set.Count} images)");
                Console.Write(r.Confusion.Format());
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"accuracy={r.Accuracy:0.0000}") +
                    (r.MaxLogitDeviation is double d ? string.Create(CultureInfo.InvariantCulture, $" max_logit_dev={d:0.0000}") : ""));
            }
            return 0;
        });
        return command;
    }
}
