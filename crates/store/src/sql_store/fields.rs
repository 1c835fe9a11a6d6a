use async_trait::async_trait;
use domain::{CustomFieldDef, FieldId};

use super::SqlStore;
use super::idempotency::insert_once;
use crate::rows::{self, to_json};
use crate::{Created, FieldStore, IdempotencyKey, Result, StoreError};

#[async_trait]
impl FieldStore for SqlStore {
    async fn create_field(&self, def: CustomFieldDef, idem: Option<IdempotencyKey>) -> Result<Created<FieldId>> {
        let (tx, c) = insert_once(
            self,
            idem,
            def.created_at,
            "INSERT INTO custom_fields (key, label, kind, options, required, active, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            vec![
                def.key.clone().into(),
                def.label.clone().into(),
                def.kind.as_str().into(),
                to_json(&def.options).into(),
                def.required.into(),
                def.active.into(),
                def.created_at.into(),
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(Created { id: FieldId(c.id), replayed: c.replayed })
    }

    async fn update_field(&self, def: &CustomFieldDef) -> Result<()> {
        let n = self
            .execute(
                "UPDATE custom_fields SET label = $1, options = $2, required = $3, active = $4 WHERE id = $5",
                vec![
                    def.label.clone().into(),
                    to_json(&def.options).into(),
                    def.required.into(),
                    def.active.into(),
                    def.id.0.into(),
                ],
            )
            .await?;
        if n == 1 { Ok(()) } else { Err(StoreError::NotFound) }
    }

    async fn fields(&self) -> Result<Vec<CustomFieldDef>> {
        let sql = format!("SELECT {} FROM custom_fields ORDER BY id", rows::FIELD_COLS);
        self.fetch(&sql, vec![]).await?.iter().map(rows::field).collect()
    }
}
