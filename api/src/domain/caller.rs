//! Who is asking: the client address a request came from (see `routes::extract`), as the
//! audit log names it and the per-client budgets count it.

use super::error::DomainError;
use super::pseudonyms::{pseudonym, Personal};
use super::rate_limit::{self, Budget, StandingNote};
use super::secrets::Hasher;
use super::{Context, Tx};

/// Who is calling: the client address (for the per-client limit and the audit log).
#[derive(Debug, Clone)]
pub struct Caller {
    /// The client's IP address.
    pub address: String,
    /// Where what is left of the client's request budget is noted for the answer.
    pub standing: StandingNote,
}

impl Caller {
    /// Checks and counts one request against the client's budget (`budget`) and then against
    /// `others` (budgets are locked in this order: the client's first), noting what is left of
    /// the client's for the answer's `RateLimit` field.
    pub(crate) fn spend_request(
        &self,
        tx: &mut Tx<'_>,
        others: &[Budget],
    ) -> Result<(), DomainError> {
        let mut budgets = Vec::with_capacity(1 + others.len());
        budgets.push(self.budget(tx.ctx));
        budgets.extend_from_slice(others);
        let standings = rate_limit::spend(tx.conn, &budgets, tx.now)?;
        if let Some(client) = standings.first() {
            self.standing.note(*client);
        }
        Ok(())
    }

    /// Notes what is left of the client's budget without counting (a read that is not
    /// counted, such as the application's own page).
    pub(crate) fn note_standing(
        &self,
        conn: &mut crate::db::DbConnection,
        ctx: &Context,
        now: time::OffsetDateTime,
    ) -> Result<(), DomainError> {
        let standing = rate_limit::peek(conn, &self.budget(ctx), now)?;
        self.standing.note(standing);
        Ok(())
    }

    /// The audit log's actor: `applicant@` and the client address's pseudonym (never the
    /// address itself: see `domain::pseudonyms`).
    pub(crate) fn actor(&self, hasher: &Hasher) -> String {
        format!("applicant@{}", self.pseudonym(hasher))
    }

    /// The client address as the audit log names it.
    pub(crate) fn pseudonym(&self, hasher: &Hasher) -> String {
        pseudonym(hasher, Personal::ClientAddress(&self.address))
    }

    /// The per-client request budget. An IPv6 client is counted by its /64, the smallest
    /// network a subscriber is usually given: counted by address, one subscriber would have
    /// 2^64 budgets.
    pub(crate) fn budget(&self, ctx: &Context) -> Budget {
        Budget::new(
            "client",
            &client_bucket(&self.address),
            ctx.limits.requests_per_client,
            ctx.limits.client_window,
        )
    }

    /// The per-client budget of 申請状況照会 (`status_inquiry`), apart from the applicant's
    /// steps so that asking does not use up applying, and counted by the same network.
    pub(crate) fn inquiry_budget(&self, limit: u32, window: std::time::Duration) -> Budget {
        Budget::new(
            "inquiry:client",
            &client_bucket(&self.address),
            limit,
            window,
        )
    }
}

/// What a client address is counted as: an IPv4 address itself, an IPv6 address by its /64.
pub(crate) fn client_bucket(address: &str) -> String {
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let [a, b, c, d, ..] = v6.segments();
            format!("{}/64", std::net::Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
        }
        _ => address.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::client_bucket;

    #[test]
    fn an_ipv6_client_is_counted_by_its_slash_64_and_an_ipv4_one_by_its_address() {
        assert_eq!(client_bucket("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(
            client_bucket("2001:db8:1:2:ffff:ffff:ffff:ffff"),
            "2001:db8:1:2::/64"
        );
        assert_ne!(
            client_bucket("2001:db8:1:3::1"),
            client_bucket("2001:db8:1:2::1")
        );
        assert_eq!(client_bucket("203.0.113.7"), "203.0.113.7");
        assert_eq!(client_bucket("unknown"), "unknown");
    }
}
