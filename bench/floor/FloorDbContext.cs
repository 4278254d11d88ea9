using Microsoft.EntityFrameworkCore;

namespace Floor;

/// <summary>Holds nothing but OpenIddict's four entity sets (added by <c>UseOpenIddict()</c>).</summary>
internal sealed class FloorDbContext(DbContextOptions<FloorDbContext> options) : DbContext(options);
