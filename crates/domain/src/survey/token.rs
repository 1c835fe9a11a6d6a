//! The answer links' token: `{invitation}.{ticket}.{expires}.{signature}`,
//! the signature an HMAC-SHA256 of the rest under the instance's secret.
//! It names its ticket, so a link for one ticket cannot answer another's
//! survey, and its expiry, so an old link stops working without a lookup.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{Millis, SurveyInvitationId, TicketId};

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("this survey link is not complete")]
    Malformed,
    #[error("this survey link is not valid")]
    Forged,
    #[error("this survey link has expired")]
    Expired,
}

/// HMAC accepts keys of any length, so this is always `Some`.
fn mac(secret: &str, body: &str) -> Option<HmacSha256> {
    let mut m = <HmacSha256 as Mac>::new_from_slice(secret.as_bytes()).ok()?;
    m.update(b"survey:");
    m.update(body.as_bytes());
    Some(m)
}

/// The token for an invitation about `ticket` (0 for none) valid until `expires_at`.
pub fn sign(secret: &str, invitation: SurveyInvitationId, ticket: Option<TicketId>, expires_at: Millis) -> String {
    let body = format!("{}.{}.{}", invitation.0, ticket.map_or(0, |t| t.0), expires_at / 1000);
    let sig = mac(secret, &body).map(|m| hex::encode(m.finalize().into_bytes())).unwrap_or_default();
    format!("{body}.{sig}")
}

/// The invitation and ticket a token names, if its signature holds and it
/// has not expired at `now`.
pub fn verify(secret: &str, token: &str, now: Millis) -> Result<(SurveyInvitationId, Option<TicketId>), TokenError> {
    let mut parts = token.trim().split('.');
    let (Some(inv), Some(ticket), Some(exp), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let (Ok(inv), Ok(ticket), Ok(exp)) = (inv.parse::<i64>(), ticket.parse::<i64>(), exp.parse::<i64>()) else {
        return Err(TokenError::Malformed);
    };
    let sig = hex::decode(sig).map_err(|_| TokenError::Malformed)?;
    let body = format!("{inv}.{ticket}.{exp}");
    // Constant-time comparison, so the signature cannot be guessed byte by byte.
    mac(secret, &body).ok_or(TokenError::Forged)?.verify_slice(&sig).map_err(|_| TokenError::Forged)?;
    if now >= exp.saturating_mul(1000) {
        return Err(TokenError::Expired);
    }
    Ok((SurveyInvitationId(inv), (ticket != 0).then_some(TicketId(ticket))))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Millis = 86_400_000;

    #[test]
    fn a_signed_token_verifies_until_it_expires() {
        let now = 1_700_000_000_000;
        let t = sign("s3cret", SurveyInvitationId(7), Some(TicketId(42)), now + DAY);
        assert_eq!(verify("s3cret", &t, now), Ok((SurveyInvitationId(7), Some(TicketId(42)))));
        assert_eq!(verify("s3cret", &t, now + DAY), Err(TokenError::Expired));
        let nps = sign("s3cret", SurveyInvitationId(8), None, now + DAY);
        assert_eq!(verify("s3cret", &nps, now), Ok((SurveyInvitationId(8), None)));
    }

    #[test]
    fn changed_tokens_are_refused() {
        let now = 1_700_000_000_000;
        let t = sign("s3cret", SurveyInvitationId(7), Some(TicketId(42)), now + DAY);
        assert_eq!(verify("other", &t, now), Err(TokenError::Forged));
        // The same signature on another ticket.
        let moved = t.replacen(".42.", ".43.", 1);
        assert_eq!(verify("s3cret", &moved, now), Err(TokenError::Forged));
        // A later expiry.
        let parts: Vec<&str> = t.split('.').collect();
        let later = format!("{}.{}.{}.{}", parts[0], parts[1], parts[2].parse::<i64>().unwrap_or(0) + 1, parts[3]);
        assert_eq!(verify("s3cret", &later, now), Err(TokenError::Forged));
        assert_eq!(verify("s3cret", "7.42", now), Err(TokenError::Malformed));
        assert_eq!(verify("s3cret", "7.42.x.abc", now), Err(TokenError::Malformed));
        assert_eq!(verify("s3cret", &format!("{t}.1"), now), Err(TokenError::Malformed));
    }
}
