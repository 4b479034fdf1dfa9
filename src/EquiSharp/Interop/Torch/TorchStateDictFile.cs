using System.Collections;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace EquiSharp.Interop.Torch;

/// <summary>
/// PyTorch state-dict files through TorchSharp.PyBridge: safetensors (the default: tensors and a JSON header, nothing
/// executable) or, only when the caller allows it, a pickled <c>.pt</c>/<c>.pth</c> file (a pickle can name code to
/// run in Python, so EquiSharp reads one only on request and accepts nothing from it but tensors).
/// </summary>
public static class TorchStateDictFile
{
    /// <summary>True for a file name that means a pickle (.pt, .pth, .bin, .ckpt).</summary>
    public static bool IsPickle(string path) =>
        Path.GetExtension(path).ToLowerInvariant() is ".pt" or ".pth" or ".bin" or ".ckpt";

    /// <summary>Writes <paramref name="state"/>; a pickle file name needs <paramref name="allowPickle"/>.</summary>
    public static void Save(string path, Dictionary<string, Tensor> state, bool allowPickle = false)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        string temporary = path + ".tmp";
        if (IsPickle(path))
        {
            if (!allowPickle) throw new ArgumentException($"{path}: a pickled PyTorch file; pass --allow-pickle to write one (or name a .safetensors file).");
            PyTorchPickler.PickleStateDict(temporary, state);
        }
        else Safetensors.SaveStateDict(temporary, state);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads a state dict: safetensors, or a pickle when <paramref name="allowPickle"/> (tensors only).</summary>
    public static Dictionary<string, Tensor> Load(string path, bool allowPickle = false)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file.", path);
        if (!IsPickle(path))
        {
            try { return Safetensors.LoadStateDict(path); }
            catch (Exception e) when (e is not IOException) { throw new InvalidDataException($"{path}: not a safetensors file ({e.Message}).", e); }
        }
        if (!allowPickle)
            throw new ArgumentException($"{path}: a pickled PyTorch file can carry code; pass --allow-pickle to read its tensors (or convert it to .safetensors).");
        Hashtable table;
        try { table = PyTorchUnpickler.UnpickleStateDict(path); }
        catch (Exception e) when (e is not IOException) { throw new InvalidDataException($"{path}: not a PyTorch state dict ({e.Message}).", e); }
        var state = new Dictionary<string, Tensor>();
        foreach (DictionaryEntry entry in table)
        {
            if (entry.Key is not string name || entry.Value is not Tensor t)
                throw new InvalidDataException($"{path}: entry '{entry.Key}' is a {entry.Value?.GetType().Name ?? "null"}, not a tensor; only a flat state dict of tensors is accepted.");
            state[name] = t;
        }
        return state;
    }
}
