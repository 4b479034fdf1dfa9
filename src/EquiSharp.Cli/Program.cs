using TorchSharp;
Console.WriteLine(torch.__version__);
using var x = torch.randn(3, 3);
Console.WriteLine(x.sum().item<float>());
