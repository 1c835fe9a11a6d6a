use async_trait::async_trait;
use domain::policy::{CustomerPrincipal, StaffPrincipal};
use domain::{Customer, CustomerId, Organization, OrganizationId, Team, TeamId, User, UserId};

use super::idempotency::insert_once;
use super::{Params, SqlStore, page_by_id, updated};
use crate::rows::{self, to_json};
use crate::{
    Created, Credentials, DirectoryStore, IdempotencyKey, Page, PageRequest, PrincipalRef, Result, SqlValue,
    StoreError, Transaction,
};

fn limit(page: PageRequest) -> u32 {
    page.limit.clamp(1, 1000)
}

async fn set_members(tx: &mut dyn Transaction, team: TeamId, members: &[UserId]) -> Result<()> {
    tx.execute("DELETE FROM team_members WHERE team_id = $1", vec![team.0.into()]).await?;
    for m in members {
        tx.execute("INSERT INTO team_members (team_id, user_id) VALUES ($1, $2)", vec![team.0.into(), m.0.into()])
            .await?;
    }
    Ok(())
}

/// For each given customer, the stored one with its email or a new one:
/// (id, organization). One query finds all that exist (emails are stored
/// lower-case); the rest are inserted, each email once.
pub(crate) async fn find_or_insert_customers<'a>(
    tx: &mut dyn Transaction,
    wanted: impl Iterator<Item = Option<&'a Customer>>,
) -> Result<Vec<Option<(CustomerId, Option<OrganizationId>)>>> {
    let wanted: Vec<Option<&Customer>> = wanted.collect();
    let mut emails: Vec<&str> = wanted.iter().flatten().map(|c| c.email.as_str()).collect();
    emails.sort_unstable();
    emails.dedup();
    let mut known = std::collections::HashMap::new();
    if !emails.is_empty() {
        let mut p = Params::default();
        let list: Vec<String> = emails.iter().map(|e| p.push(e.to_string())).collect();
        let sql = format!("SELECT id, organization_id, email FROM customers WHERE email IN ({})", list.join(", "));
        for r in tx.fetch(&sql, p.values).await? {
            known.insert(r.text(2)?, (CustomerId(r.int(0)?), r.opt_int(1)?.map(OrganizationId)));
        }
    }
    let mut out = Vec::with_capacity(wanted.len());
    for c in wanted {
        let Some(c) = c else {
            out.push(None);
            continue;
        };
        let found = match known.get(&c.email) {
            Some(found) => *found,
            None => {
                let found = insert_customer(tx, c).await?;
                known.insert(c.email.clone(), found);
                found
            }
        };
        out.push(Some(found));
    }
    Ok(out)
}

/// The organization whose email domains hold this address's domain (the
/// oldest, if several do). Domains are lower-case letters, digits, dots and
/// hyphens, stored as a JSON list, so `"acme.com"` with its quotes matches
/// exactly one entry.
pub(crate) async fn organization_by_domain(
    read: impl AsyncFnOnce(&str, Vec<SqlValue>) -> Result<Vec<crate::SqlRow>>,
    email: &str,
) -> Result<Option<OrganizationId>> {
    let Some((_, domain)) = email.rsplit_once('@') else { return Ok(None) };
    let domain = domain.to_ascii_lowercase();
    if domain.is_empty() || !domain.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-') {
        return Ok(None);
    }
    let rows = read(
        "SELECT id FROM organizations WHERE domains LIKE $1 ORDER BY id LIMIT 1",
        vec![format!("%\"{domain}\"%").into()],
    )
    .await?;
    Ok(rows.first().map(|r| r.int(0)).transpose()?.map(OrganizationId))
}

/// Inserts a customer the batch lookup did not find; if a concurrent
/// transaction inserted the same email first (PostgreSQL has many writers),
/// this insert does nothing and the row it committed is the customer.
async fn insert_customer(tx: &mut dyn Transaction, c: &Customer) -> Result<(CustomerId, Option<OrganizationId>)> {
    let mut c = c.clone();
    if c.organization_id.is_none() {
        c.organization_id = organization_by_domain(async |sql, p| tx.fetch(sql, p).await, &c.email).await?;
    }
    let c = &c;
    let mut values = customer_values(c);
    values.push(SqlValue::Null);
    let sql =
        format!("{} ON CONFLICT (email) DO NOTHING RETURNING id", INSERT_CUSTOMER.trim_end_matches(" RETURNING id"));
    if let Some(r) = tx.fetch(&sql, values).await?.first() {
        return Ok((CustomerId(r.int(0)?), c.organization_id));
    }
    let found =
        tx.fetch("SELECT id, organization_id FROM customers WHERE email = $1", vec![c.email.clone().into()]).await?;
    let r = found.first().ok_or_else(|| StoreError::Backend(format!("customer {} vanished", c.email)))?;
    Ok((CustomerId(r.int(0)?), r.opt_int(1)?.map(OrganizationId)))
}

const INSERT_CUSTOMER: &str = "INSERT INTO customers (email, name, phone, organization_id, tier, annual_value_cents, tags, \
    time_zone, locale, external_id, churned_at, created_at, updated_at, password_hash) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id";

fn org_values(o: &Organization) -> Vec<SqlValue> {
    vec![
        o.name.clone().into(),
        to_json(&o.domains).into(),
        o.tier.as_str().into(),
        o.notes.clone().into(),
        o.shares_tickets.into(),
        o.created_at.into(),
        o.updated_at.into(),
    ]
}

fn customer_values(c: &Customer) -> Vec<SqlValue> {
    vec![
        c.email.clone().into(),
        c.name.clone().into(),
        c.phone.clone().into(),
        c.organization_id.map(|o| o.0).into(),
        c.tier.as_str().into(),
        c.annual_value_cents.into(),
        to_json(&c.tags).into(),
        c.time_zone.clone().into(),
        c.locale.clone().into(),
        c.external_id.clone().into(),
        c.churned_at.into(),
        c.created_at.into(),
        c.updated_at.into(),
    ]
}

fn user_values(u: &User) -> Vec<SqlValue> {
    vec![
        u.email.clone().into(),
        u.name.clone().into(),
        u.role.as_str().into(),
        u.active.into(),
        u.reports_to.map(|r| r.0).into(),
        u.time_zone.clone().into(),
        u.created_at.into(),
        u.updated_at.into(),
    ]
}

impl SqlStore {
    async fn ids(&self, sql: &str, id: i64) -> Result<Vec<i64>> {
        self.fetch(sql, vec![id.into()]).await?.iter().map(|r| r.int(0)).collect()
    }
}

#[async_trait]
impl DirectoryStore for SqlStore {
    async fn create_organization(
        &self,
        org: Organization,
        idem: Option<IdempotencyKey>,
    ) -> Result<Created<OrganizationId>> {
        let (tx, c) = insert_once(
            self,
            idem,
            org.created_at,
            "INSERT INTO organizations (name, domains, tier, notes, shares_tickets, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            org_values(&org),
        )
        .await?;
        tx.commit().await?;
        Ok(Created { id: OrganizationId(c.id), replayed: c.replayed })
    }

    async fn update_organization(&self, org: &Organization) -> Result<()> {
        let mut v = org_values(org);
        v.push(org.id.0.into());
        updated(
            self.execute(
                "UPDATE organizations SET name = $1, domains = $2, tier = $3, notes = $4, shares_tickets = $5, \
                 created_at = $6, updated_at = $7 WHERE id = $8",
                v,
            )
            .await?,
        )
    }

    async fn organization(&self, id: OrganizationId) -> Result<Option<Organization>> {
        let sql = format!("SELECT {} FROM organizations WHERE id = $1", rows::ORGANIZATION_COLS);
        self.fetch_one(&sql, vec![id.0.into()]).await?.map(|r| rows::organization(&r)).transpose()
    }

    async fn organizations(&self, page: PageRequest) -> Result<Page<Organization>> {
        let sql = format!(
            "SELECT {} FROM organizations WHERE id > $1 ORDER BY id LIMIT {}",
            rows::ORGANIZATION_COLS,
            limit(page) + 1
        );
        let items = self
            .fetch(&sql, vec![page.after.unwrap_or(0).into()])
            .await?
            .iter()
            .map(rows::organization)
            .collect::<Result<_>>()?;
        Ok(page_by_id(items, limit(page), |o: &Organization| o.id.0))
    }

    async fn create_customer(
        &self,
        customer: Customer,
        password_hash: Option<String>,
        idem: Option<IdempotencyKey>,
    ) -> Result<Created<CustomerId>> {
        let mut customer = customer;
        if customer.organization_id.is_none() {
            customer.organization_id =
                organization_by_domain(async |sql, p| self.fetch(sql, p).await, &customer.email).await?;
        }
        let mut values = customer_values(&customer);
        values.push(password_hash.into());
        let (tx, c) = insert_once(self, idem, customer.created_at, INSERT_CUSTOMER, values).await?;
        tx.commit().await?;
        Ok(Created { id: CustomerId(c.id), replayed: c.replayed })
    }

    async fn update_customer(&self, c: &Customer) -> Result<()> {
        let mut v = customer_values(c);
        v.push(c.id.0.into());
        updated(
            self.execute(
                "UPDATE customers SET email = $1, name = $2, phone = $3, organization_id = $4, tier = $5, \
                 annual_value_cents = $6, tags = $7, time_zone = $8, locale = $9, external_id = $10, churned_at = $11, \
                 created_at = $12, updated_at = $13 WHERE id = $14",
                v,
            )
            .await?,
        )
    }

    async fn customer(&self, id: CustomerId) -> Result<Option<Customer>> {
        let sql = format!("SELECT {} FROM customers WHERE id = $1", rows::CUSTOMER_COLS);
        self.fetch_one(&sql, vec![id.0.into()]).await?.map(|r| rows::customer(&r)).transpose()
    }

    async fn customers_by_ids(&self, ids: &[CustomerId]) -> Result<Vec<Customer>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let mut p = Params::default();
        let list = p.list(&ids.iter().map(|i| i.0).collect::<Vec<_>>());
        let sql = format!("SELECT {} FROM customers WHERE id IN ({list}) ORDER BY id", rows::CUSTOMER_COLS);
        self.fetch(&sql, p.values).await?.iter().map(rows::customer).collect()
    }

    async fn customer_by_email(&self, email: &str) -> Result<Option<Customer>> {
        let sql = format!("SELECT {} FROM customers WHERE email = $1", rows::CUSTOMER_COLS);
        self.fetch_one(&sql, vec![email.to_lowercase().into()]).await?.map(|r| rows::customer(&r)).transpose()
    }

    async fn customers(&self, page: PageRequest, organization: Option<OrganizationId>) -> Result<Page<Customer>> {
        let mut p = Params::default();
        let mut cond = format!("id > {}", p.push(page.after.unwrap_or(0)));
        if let Some(o) = organization {
            cond.push_str(&format!(" AND organization_id = {}", p.push(o.0)));
        }
        let sql =
            format!("SELECT {} FROM customers WHERE {cond} ORDER BY id LIMIT {}", rows::CUSTOMER_COLS, limit(page) + 1);
        let items = self.fetch(&sql, p.values).await?.iter().map(rows::customer).collect::<Result<_>>()?;
        Ok(page_by_id(items, limit(page), |c: &Customer| c.id.0))
    }

    async fn create_user(
        &self,
        user: User,
        password_hash: Option<String>,
        idem: Option<IdempotencyKey>,
    ) -> Result<Created<UserId>> {
        let mut values = user_values(&user);
        values.push(password_hash.into());
        let (tx, c) = insert_once(
            self,
            idem,
            user.created_at,
            "INSERT INTO users (email, name, role, active, reports_to, time_zone, created_at, updated_at, password_hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            values,
        )
        .await?;
        tx.commit().await?;
        Ok(Created { id: UserId(c.id), replayed: c.replayed })
    }

    async fn update_user(&self, u: &User) -> Result<()> {
        let mut v = user_values(u);
        v.push(u.id.0.into());
        updated(
            self.execute(
                "UPDATE users SET email = $1, name = $2, role = $3, active = $4, reports_to = $5, time_zone = $6, \
                 created_at = $7, updated_at = $8 WHERE id = $9",
                v,
            )
            .await?,
        )
    }

    async fn user(&self, id: UserId) -> Result<Option<User>> {
        let sql = format!("SELECT {} FROM users WHERE id = $1", rows::USER_COLS);
        self.fetch_one(&sql, vec![id.0.into()]).await?.map(|r| rows::user(&r)).transpose()
    }

    async fn users(&self, page: PageRequest) -> Result<Page<User>> {
        let sql = format!("SELECT {} FROM users WHERE id > $1 ORDER BY id LIMIT {}", rows::USER_COLS, limit(page) + 1);
        let items = self
            .fetch(&sql, vec![page.after.unwrap_or(0).into()])
            .await?
            .iter()
            .map(rows::user)
            .collect::<Result<_>>()?;
        Ok(page_by_id(items, limit(page), |u: &User| u.id.0))
    }

    async fn user_count(&self) -> Result<i64> {
        self.fetch_one("SELECT COUNT(*) FROM users", vec![])
            .await?
            .map(|r| r.int(0))
            .transpose()
            .map(|n| n.unwrap_or(0))
    }

    async fn set_password(&self, who: PrincipalRef, hash: &str) -> Result<()> {
        let (sql, id) = match who {
            PrincipalRef::Staff(u) => ("UPDATE users SET password_hash = $1 WHERE id = $2", u.0),
            PrincipalRef::Customer(c) => ("UPDATE customers SET password_hash = $1 WHERE id = $2", c.0),
        };
        updated(self.execute(sql, vec![hash.into(), id.into()]).await?)
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {} FROM users WHERE email = $1", rows::USER_COLS);
        self.fetch_one(&sql, vec![email.trim().to_lowercase().into()]).await?.map(|r| rows::user(&r)).transpose()
    }

    async fn credentials(&self, email: &str) -> Result<Option<Credentials>> {
        let email = email.trim().to_lowercase();
        if let Some(r) = self
            .fetch_one("SELECT id, password_hash, active FROM users WHERE email = $1", vec![email.clone().into()])
            .await?
        {
            return Ok(r.opt_text(1)?.map(|hash| Credentials {
                principal: PrincipalRef::Staff(UserId(r.int(0).unwrap_or_default())),
                password_hash: hash,
                active: r.bool(2).unwrap_or(false),
            }));
        }
        let r = self
            .fetch_one(
                "SELECT id, password_hash FROM customers WHERE email = $1 AND password_hash IS NOT NULL",
                vec![email.into()],
            )
            .await?;
        r.map(|r| {
            Ok(Credentials {
                principal: PrincipalRef::Customer(CustomerId(r.int(0)?)),
                password_hash: r.text(1)?,
                active: true,
            })
        })
        .transpose()
    }

    async fn create_team(&self, team: Team, idem: Option<IdempotencyKey>) -> Result<Created<TeamId>> {
        let (mut tx, c) = insert_once(
            self,
            idem,
            team.created_at,
            "INSERT INTO teams (name, description, lead_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            vec![
                team.name.clone().into(),
                team.description.clone().into(),
                team.lead_id.map(|l| l.0).into(),
                team.created_at.into(),
                team.updated_at.into(),
            ],
        )
        .await?;
        if !c.replayed {
            set_members(tx.as_mut(), TeamId(c.id), &team.member_ids).await?;
        }
        tx.commit().await?;
        Ok(Created { id: TeamId(c.id), replayed: c.replayed })
    }

    async fn update_team(&self, team: &Team) -> Result<()> {
        let mut tx = self.begin().await?;
        updated(
            tx.execute(
                "UPDATE teams SET name = $1, description = $2, lead_id = $3, updated_at = $4 WHERE id = $5",
                vec![
                    team.name.clone().into(),
                    team.description.clone().into(),
                    team.lead_id.map(|l| l.0).into(),
                    team.updated_at.into(),
                    team.id.0.into(),
                ],
            )
            .await?,
        )?;
        set_members(tx.as_mut(), team.id, &team.member_ids).await?;
        tx.commit().await
    }

    async fn team(&self, id: TeamId) -> Result<Option<Team>> {
        let sql = format!("SELECT {} FROM teams WHERE id = $1", rows::TEAM_COLS);
        let Some(r) = self.fetch_one(&sql, vec![id.0.into()]).await? else {
            return Ok(None);
        };
        let mut team = rows::team(&r)?;
        team.member_ids = self
            .ids("SELECT user_id FROM team_members WHERE team_id = $1 ORDER BY user_id", id.0)
            .await?
            .into_iter()
            .map(UserId)
            .collect();
        Ok(Some(team))
    }

    async fn teams(&self) -> Result<Vec<Team>> {
        let sql = format!("SELECT {} FROM teams ORDER BY name", rows::TEAM_COLS);
        let mut teams = self.fetch(&sql, vec![]).await?.iter().map(rows::team).collect::<Result<Vec<_>>>()?;
        for r in self.fetch("SELECT team_id, user_id FROM team_members ORDER BY user_id", vec![]).await? {
            let (team, user) = (TeamId(r.int(0)?), UserId(r.int(1)?));
            if let Some(t) = teams.iter_mut().find(|t| t.id == team) {
                t.member_ids.push(user);
            }
        }
        Ok(teams)
    }

    async fn staff_principal(&self, id: UserId) -> Result<Option<(User, StaffPrincipal)>> {
        let Some(user) = self.user(id).await? else {
            return Ok(None);
        };
        let team_ids = self.ids("SELECT team_id FROM team_members WHERE user_id = $1", id.0).await?;
        let led = self.ids("SELECT id FROM teams WHERE lead_id = $1", id.0).await?;
        // Everyone below in the reporting line; UNION stops on cycles.
        let reports = self
            .ids(
                "WITH RECURSIVE below(id) AS (SELECT id FROM users WHERE reports_to = $1 \
                 UNION SELECT u.id FROM users u JOIN below b ON u.reports_to = b.id) SELECT id FROM below",
                id.0,
            )
            .await?;
        let principal = StaffPrincipal {
            user_id: id,
            role: user.role,
            team_ids: team_ids.into_iter().map(TeamId).collect(),
            led_team_ids: led.into_iter().map(TeamId).collect(),
            report_ids: reports.into_iter().map(UserId).collect(),
        };
        Ok(Some((user, principal)))
    }

    async fn customer_principal(&self, id: CustomerId) -> Result<Option<(Customer, CustomerPrincipal)>> {
        let Some(customer) = self.customer(id).await? else {
            return Ok(None);
        };
        let shares = match customer.organization_id {
            Some(o) => self.organization(o).await?.is_some_and(|o| o.shares_tickets),
            None => false,
        };
        let principal = CustomerPrincipal {
            customer_id: id,
            organization_id: customer.organization_id,
            organization_shares_tickets: shares,
        };
        Ok(Some((customer, principal)))
    }
}
