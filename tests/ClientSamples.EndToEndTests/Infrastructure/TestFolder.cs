namespace ClientSamples.EndToEndTests.Infrastructure;

/// <summary>A fixture's own folder under the temp directory (databases, certificates, seeds, logs); deleted with the fixture.</summary>
internal sealed class TestFolder(string area) : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), area, Guid.NewGuid().ToString("N"));

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Never created, or a file still held open: the OS cleans its temp folder.
        }
    }
}
