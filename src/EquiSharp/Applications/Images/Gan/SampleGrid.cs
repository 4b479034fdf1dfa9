using SkiaSharp;

namespace EquiSharp.Applications.Images.Gan;

/// <summary>
/// Greyscale images side by side in a grid, written as an 8-bit greyscale PNG (pixel values in [0, 1], clamped; white
/// ink on black as in MNIST; a one-pixel grey frame around each cell; every pixel drawn as a <c>scale</c>×<c>scale</c>
/// square so the digits are legible).
/// </summary>
public static class SampleGrid
{
    /// <param name="path">PNG to write (atomically: temporary file, then rename).</param>
    /// <param name="pixels">N × side × side values, row-major.</param>
    /// <param name="side">Side of each image.</param>
    /// <param name="columns">Images per row.</param>
    /// <param name="scale">Screen pixels per image pixel.</param>
    public static void WritePng(string path, float[] pixels, int side, int columns, int scale = 2)
    {
        int count = pixels.Length / (side * side);
        if (count == 0 || pixels.Length != count * side * side) throw new ArgumentException($"{pixels.Length} values are not whole {side}×{side} images.");
        int rows = (count + columns - 1) / columns, cell = side + 2;
        int width = columns * cell * scale, height = rows * cell * scale;
        var bytes = new byte[width * height];
        Array.Fill(bytes, (byte)96);   // frames and empty cells
        for (int n = 0; n < count; n++)
            for (int i = 0; i < side; i++)
                for (int j = 0; j < side; j++)
                {
                    byte v = (byte)Math.Round(255 * Math.Clamp(pixels[(n * side + i) * side + j], 0f, 1f));
                    int y0 = ((n / columns) * cell + 1 + i) * scale, x0 = ((n % columns) * cell + 1 + j) * scale;
                    for (int dy = 0; dy < scale; dy++) bytes.AsSpan((y0 + dy) * width + x0, scale).Fill(v);
                }
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
        System.Runtime.InteropServices.Marshal.Copy(bytes, 0, bitmap.GetPixels(), bytes.Length);
        using var image = SKImage.FromBitmap(bitmap);
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        string tmp = path + ".tmp.png";
        using (var file = File.Create(tmp)) png.SaveTo(file);
        File.Move(tmp, path, overwrite: true);
    }
}
