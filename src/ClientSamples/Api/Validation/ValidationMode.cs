namespace ClientSamples.Api.Validation;

/// <summary>How the API decides that an access token is good.</summary>
internal enum ValidationMode
{
    /// <summary>Ask the identity provider (RFC 7662): sees revocation at once, costs a round trip.</summary>
    Introspection,

    /// <summary>Check the JWT's signature against the published keys: no round trip, sees revocation only at expiry.</summary>
    Jwt,
}
