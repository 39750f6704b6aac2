//! IAM-style policy evaluation: the statements a custom authorizer returns and the API's
//! resource policy, matched against a method ARN with `*` and `?` wildcards.

use std::net::IpAddr;

/// What a set of statements says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A matching `Deny`: refused whatever else says.
    Deny,
    /// A matching `Allow` and no matching `Deny`.
    Allow,
    /// No statement matches (an implicit deny unless another policy allows).
    Silent,
}

impl Verdict {
    /// Combines two policies as API Gateway does for one account: any deny wins, then any
    /// allow admits.
    pub fn and(self, other: Verdict) -> Verdict {
        match (self, other) {
            (Verdict::Deny, _) | (_, Verdict::Deny) => Verdict::Deny,
            (Verdict::Allow, _) | (_, Verdict::Allow) => Verdict::Allow,
            _ => Verdict::Silent,
        }
    }
}

/// IAM's `StringLike` matching: `*` is any run of characters, `?` any one character.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// One statement of an authorizer's policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// `Allow` (`true`) or `Deny`.
    pub allow: bool,
    /// `Action` patterns; `execute-api:Invoke` is what a request needs.
    pub actions: Vec<String>,
    /// `Resource` patterns over method ARNs.
    pub resources: Vec<String>,
}

impl Statement {
    /// Does the statement cover invoking `method_arn`?
    pub fn covers(&self, method_arn: &str) -> bool {
        self.actions
            .iter()
            .any(|a| glob(&a.to_ascii_lowercase(), "execute-api:invoke"))
            && self.resources.iter().any(|r| glob(r, method_arn))
    }
}

/// The verdict of `statements` on `method_arn`.
pub fn evaluate(statements: &[Statement], method_arn: &str) -> Verdict {
    let mut verdict = Verdict::Silent;
    for s in statements.iter().filter(|s| s.covers(method_arn)) {
        if !s.allow {
            return Verdict::Deny;
        }
        verdict = Verdict::Allow;
    }
    verdict
}

/// One statement of the resource policy, as generated code declares it.
#[derive(Debug)]
pub struct StatementSpec {
    /// `allow` or `deny`.
    pub allow: bool,
    /// Patterns over `STAGE/METHOD/path`; empty = every method.
    pub resources: &'static [&'static str],
    /// `aws:SourceIp` `IpAddress` condition: addresses or CIDR blocks.
    pub source_ips: &'static [&'static str],
    /// `aws:SourceIp` `NotIpAddress` condition.
    pub not_source_ips: &'static [&'static str],
    /// `aws:UserAgent` `StringLike` condition.
    pub user_agents: &'static [&'static str],
    /// `aws:Referer` `StringLike` condition.
    pub referers: &'static [&'static str],
    /// Principals (IAM ARNs or authorizer principal ids, wildcards allowed); empty = anyone.
    pub principals: &'static [&'static str],
}

/// The resource policy, as generated code declares it.
#[derive(Debug)]
pub struct ResourcePolicySpec {
    /// The statements in source order.
    pub statements: &'static [StatementSpec],
}

/// The request facts a resource policy's conditions read.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// `STAGE/METHOD/path` (the method ARN after the API id).
    pub resource: &'a str,
    /// The caller's address.
    pub source_ip: IpAddr,
    /// The `User-Agent` header.
    pub user_agent: Option<&'a str>,
    /// The `Referer` header.
    pub referer: Option<&'a str>,
    /// Who the caller authenticated as; `None` before authentication or when anonymous.
    pub principal: Option<&'a str>,
}

/// The resource policy with its CIDR blocks parsed once at start-up.
#[derive(Debug)]
pub struct ResourcePolicy {
    statements: Vec<(&'static StatementSpec, Vec<ipnet::IpNet>, Vec<ipnet::IpNet>)>,
}

fn nets(list: &[&str]) -> Vec<ipnet::IpNet> {
    list.iter()
        .filter_map(|s| {
            s.parse::<ipnet::IpNet>()
                .ok()
                .or_else(|| s.parse::<IpAddr>().ok().map(ipnet::IpNet::from))
        })
        .collect()
}

/// Is `ip` inside `net`? An IPv4-mapped IPv6 peer (`::ffff:a.b.c.d`) matches IPv4 blocks.
fn contains(net: &ipnet::IpNet, ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    net.contains(&ip)
}

impl ResourcePolicy {
    /// Parses the spec's address blocks (the checker has validated them).
    pub fn new(spec: &'static ResourcePolicySpec) -> Self {
        ResourcePolicy {
            statements: spec
                .statements
                .iter()
                .map(|s| (s, nets(s.source_ips), nets(s.not_source_ips)))
                .collect(),
        }
    }

    /// The policy's verdict. `pre_auth`: only statements that do not name principals count
    /// (API Gateway applies an explicit deny before calling the authorizer).
    pub fn evaluate(&self, facts: &Facts<'_>, pre_auth: bool) -> Verdict {
        let mut verdict = Verdict::Silent;
        for (s, ips, not_ips) in &self.statements {
            if pre_auth && !s.principals.is_empty() {
                continue;
            }
            let resource =
                s.resources.is_empty() || s.resources.iter().any(|r| glob(r, facts.resource));
            let ip = s.source_ips.is_empty() || ips.iter().any(|n| contains(n, facts.source_ip));
            let not_ip = !not_ips.iter().any(|n| contains(n, facts.source_ip));
            let like = |patterns: &[&str], value: Option<&str>| {
                patterns.is_empty() || value.is_some_and(|v| patterns.iter().any(|p| glob(p, v)))
            };
            let principal = s.principals.is_empty()
                || facts
                    .principal
                    .is_some_and(|p| s.principals.iter().any(|pat| glob(pat, p)));
            if resource
                && ip
                && not_ip
                && like(s.user_agents, facts.user_agent)
                && like(s.referers, facts.referer)
                && principal
            {
                if !s.allow {
                    return Verdict::Deny;
                }
                verdict = Verdict::Allow;
            }
        }
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_like_iam() {
        assert!(glob("*", ""));
        assert!(glob(
            "arn:aws:execute-api:*:*:api/*/GET/*",
            "arn:aws:execute-api:us-east-1:0:api/prod/GET/pets/1"
        ));
        assert!(!glob(
            "arn:aws:execute-api:*:*:api/*/GET/*",
            "arn:aws:execute-api:us-east-1:0:api/prod/POST/pets"
        ));
        assert!(glob("a?c", "abc"));
        assert!(!glob("a?c", "ac"));
        assert!(glob("*/pets", "prod/GET/pets"));
        assert!(!glob("*/pets", "prod/GET/pets/1"));
        assert!(glob("a*b*c", "aXXbYYc"));
    }

    #[test]
    fn deny_wins_and_silence_is_silent() {
        let allow = Statement {
            allow: true,
            actions: vec!["execute-api:Invoke".into()],
            resources: vec!["*".into()],
        };
        let deny = Statement {
            allow: false,
            actions: vec!["execute-api:*".into()],
            resources: vec!["*/POST/*".into()],
        };
        let both = [allow.clone(), deny];
        assert_eq!(evaluate(&both, "arn/prod/GET/x"), Verdict::Allow);
        assert_eq!(evaluate(&both, "arn/prod/POST/x"), Verdict::Deny);
        assert_eq!(evaluate(&[], "arn/prod/GET/x"), Verdict::Silent);
        let other_action = Statement {
            actions: vec!["s3:GetObject".into()],
            ..allow
        };
        assert_eq!(evaluate(&[other_action], "arn/prod/GET/x"), Verdict::Silent);
        assert_eq!(Verdict::Allow.and(Verdict::Deny), Verdict::Deny);
        assert_eq!(Verdict::Silent.and(Verdict::Allow), Verdict::Allow);
    }

    #[test]
    fn resource_policy_conditions() {
        static STATEMENTS: [StatementSpec; 2] = [
            StatementSpec {
                allow: false,
                resources: &[],
                source_ips: &["203.0.113.0/24"],
                not_source_ips: &[],
                user_agents: &[],
                referers: &[],
                principals: &[],
            },
            StatementSpec {
                allow: true,
                resources: &["prod/*"],
                source_ips: &[],
                not_source_ips: &["198.51.100.7"],
                user_agents: &["curl/*"],
                referers: &[],
                principals: &[],
            },
        ];
        static SPEC: ResourcePolicySpec = ResourcePolicySpec {
            statements: &STATEMENTS,
        };
        let p = ResourcePolicy::new(&SPEC);
        let facts = |ip: &str, ua: Option<&'static str>| Facts {
            resource: "prod/GET/pets",
            source_ip: ip.parse().unwrap(),
            user_agent: ua,
            referer: None,
            principal: None,
        };
        assert_eq!(
            p.evaluate(&facts("203.0.113.9", Some("curl/8")), true),
            Verdict::Deny
        );
        assert_eq!(
            p.evaluate(&facts("::ffff:203.0.113.9", Some("curl/8")), true),
            Verdict::Deny
        );
        assert_eq!(
            p.evaluate(&facts("10.0.0.1", Some("curl/8")), true),
            Verdict::Allow
        );
        assert_eq!(
            p.evaluate(&facts("10.0.0.1", Some("wget")), true),
            Verdict::Silent
        );
        assert_eq!(
            p.evaluate(&facts("198.51.100.7", Some("curl/8")), true),
            Verdict::Silent
        );
    }
}
