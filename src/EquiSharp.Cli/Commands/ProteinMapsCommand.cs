using System.CommandLine;
using System.Globalization;
using EquiSharp.Applications.Protein.Contacts;
using EquiSharp.Applications.Protein.Evaluation;
using EquiSharp.Applications.Protein.Features;
using EquiSharp.Applications.Protein.Training;
using EquiSharp.Training;

namespace EquiSharp.Cli.Commands;

/// <summary><c>equisharp protein maps</c>: the paper's Fig. 2 — trained models' output maps for one protein side by side, with the true map.</summary>
internal static class ProteinMapsCommand
{
    public static Command Build()
    {
        var models = new Option<string[]>("--model") { Description = "Model directories from 'protein train' (repeat: e.g. the CNN and the SCNN of one fold).", Required = true, AllowMultipleArgumentsPerToken = true };
        var features = new Option<string?>("--features") { Description = "Directory of .features files (default: the first model's)." };
        var protein = new Option<string?>("--protein") { Description = "Protein name, e.g. PF00254_2PPN_A (default: the first model's first held-out protein)." };
        var outPath = new Option<string>("--out") { Description = "PNG to write.", Required = true };
        var device = CommonOptions.Device();
        var command = new Command("maps", "Fig. 2 of the SCNN paper: each model's output map for one protein as computed (CNN: both triangles, only the upper one trained; SCNN: symmetric by construction) next to the true Cβ contacts; prints each map's max |P − Pᵀ|.")
            { models, features, protein, outPath, device, CommonOptions.Threads(), CommonOptions.Convolution() };
        command.SetAction(parse =>
        {
            var dev = CommonOptions.ParseDevice(parse.GetValue(device)!);
            var dirs = parse.GetValue(models)!;
            var panels = new List<(string, float[])>();
            ContactExample? example = null;
            foreach (var dir in dirs)
            {
                var (model, spec) = ContactTrainRun.LoadModel(dir, dev);
                using (model)
                {
                    if (example is null)
                    {
                        string featuresDir = parse.GetValue(features) ?? spec.FeaturesDir;
                        string name = parse.GetValue(protein) ?? spec.Split.Test[0];
                        string file = Path.Combine(featuresDir, name + ProteinFeatureFile.Extension);
                        if (!File.Exists(file)) throw new FileNotFoundException($"{file}: no features for protein '{name}' (see 'protein features').");
                        example = ContactExample.From(ProteinFeatureFile.Read(file), spec.ContactPotential);
                        panels.Add(("true Cβ contacts (< 8 Å)", example.Protein.Contacts(ContactAtom.Beta)));
                    }
                    var map = ContactPrediction.OutputMap(model, example, dev);
                    double asym = ContactPrediction.MaxAsymmetry(map, example.Length);
                    string kind = model.Symmetric ? "SCNN" : "CNN";
                    panels.Add((string.Create(CultureInfo.InvariantCulture, $"{kind}: max |P − Pᵀ| = {asym:0.###e+00}"), map));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{kind} {dir}: max_asymmetry={asym:0.###e+00}"));
                }
            }
            string png = parse.GetValue(outPath)!;
            Plots.HeatmapPanels(png, panels, example!.Length, $"{example.Protein.Name} (L = {example.Length}): output maps");
            Console.WriteLine($"wrote {png}");
        });
        return command;
    }
}
