import HavenCore

/// Host-side library. The XForm compiler, config signer, transports, pull and
/// export arrive with issues 3–5; what exists today is the version the host
/// tools report.
public enum HavenHost {
    public static let version = "0.1.0"
}
