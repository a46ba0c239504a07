/// Host-side library for the `haven` tool. Today: age keys (the research
/// team's identity and recipients). The XForm compiler, config signer,
/// transports, pull and export arrive with issues 3–5.
public enum HavenHost {
    public static let version = "0.1.0"
}
