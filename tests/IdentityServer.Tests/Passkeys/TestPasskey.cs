using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;

namespace IdentityServer.Tests.Passkeys;

/// <summary>
/// A software authenticator with one ES256 passkey, answering WebAuthn ceremonies as a browser
/// would hand them to the server (the JSON of <c>PublicKeyCredential.toJSON()</c>): a "none"
/// attestation for creation, a signed assertion for sign-in. The server under test does every check.
/// </summary>
internal sealed class TestPasskey : IDisposable
{
    public const string Origin = "https://localhost";
    public const string RpId = "localhost";

    private static readonly string[] Transports = ["internal"];

    private readonly ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public byte[] CredentialId { get; } = RandomNumberGenerator.GetBytes(32);

    public string Id => WebEncoders.Base64UrlEncode(CredentialId);

    /// <summary>The signature counter, raised by each assertion (authenticators that count do).</summary>
    public uint SignCount { get; set; }

    public void Dispose() => key.Dispose();

    /// <summary>The public key as a COSE_Key (RFC 9053: EC2, ES256, P-256), as stored by Identity.</summary>
    public byte[] CosePublicKey()
    {
        var point = key.ExportParameters(false).Q;
        // CBOR map of 5: 1 (kty): 2 (EC2), 3 (alg): -7 (ES256), -1 (crv): 1 (P-256), -2 (x), -3 (y).
        return [0xA5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20, .. point.X!, 0x22, 0x58, 0x20, .. point.Y!];
    }

    /// <summary>The passkey as stored for an account, for tests that start with one registered.</summary>
    public UserPasskeyInfo Stored(string name = "Test key") =>
        new(CredentialId, CosePublicKey(), DateTimeOffset.UtcNow, 0, ["internal"], isUserVerified: true, isBackupEligible: false,
            isBackedUp: false, attestationObject: [], clientDataJson: []) { Name = name };

    /// <summary>The answer to creation options (<c>navigator.credentials.create()</c>).</summary>
    public string Attestation(JsonElement creationOptions, string origin = Origin)
    {
        var challenge = creationOptions.GetProperty("challenge").GetString()!;
        var rpId = creationOptions.GetProperty("rp").GetProperty("id").GetString()!;
        var clientData = ClientData("webauthn.create", challenge, origin);
        // Flags: user present, user verified, attested credential data.
        byte[] authenticatorData =
        [
            .. SHA256.HashData(Encoding.UTF8.GetBytes(rpId)), 0x45, .. BigEndian(SignCount),
            .. new byte[16], (byte)(CredentialId.Length >> 8), (byte)CredentialId.Length, .. CredentialId, .. CosePublicKey(),
        ];
        // CBOR map of 3: "fmt": "none", "attStmt": {}, "authData": bytes.
        byte[] attestationObject =
        [
            0xA3, 0x63, .. "fmt"u8, 0x64, .. "none"u8, 0x67, .. "attStmt"u8, 0xA0, 0x68, .. "authData"u8,
            0x59, (byte)(authenticatorData.Length >> 8), (byte)authenticatorData.Length, .. authenticatorData,
        ];
        return JsonSerializer.Serialize(new
        {
            id = Id,
            rawId = Id,
            type = "public-key",
            authenticatorAttachment = "platform",
            clientExtensionResults = new { },
            response = new
            {
                clientDataJSON = WebEncoders.Base64UrlEncode(clientData),
                attestationObject = WebEncoders.Base64UrlEncode(attestationObject),
                transports = Transports,
            },
        });
    }

    /// <summary>The answer to request options (<c>navigator.credentials.get()</c>), signed for <paramref name="userId"/>'s passkey.</summary>
    public string Assertion(JsonElement requestOptions, string userId, string origin = Origin, bool userVerified = true)
    {
        var challenge = requestOptions.GetProperty("challenge").GetString()!;
        var rpId = requestOptions.GetProperty("rpId").GetString()!;
        SignCount++;
        var clientData = ClientData("webauthn.get", challenge, origin);
        byte[] authenticatorData = [.. SHA256.HashData(Encoding.UTF8.GetBytes(rpId)), (byte)(userVerified ? 0x05 : 0x01), .. BigEndian(SignCount)];
        var signature = key.SignData([.. authenticatorData, .. SHA256.HashData(clientData)], HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        return JsonSerializer.Serialize(new
        {
            id = Id,
            rawId = Id,
            type = "public-key",
            authenticatorAttachment = "platform",
            clientExtensionResults = new { },
            response = new
            {
                clientDataJSON = WebEncoders.Base64UrlEncode(clientData),
                authenticatorData = WebEncoders.Base64UrlEncode(authenticatorData),
                signature = WebEncoders.Base64UrlEncode(signature),
                userHandle = WebEncoders.Base64UrlEncode(Encoding.UTF8.GetBytes(userId)),
            },
        });
    }

    private static byte[] ClientData(string type, string challenge, string origin) =>
        JsonSerializer.SerializeToUtf8Bytes(new { type, challenge, origin, crossOrigin = false });

    private static byte[] BigEndian(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }
}
