//! Injection: secret references (`opsdeck://VAULT/NAME[#N]`) resolved into a
//! process's environment or a rendered file. Every reference is checked
//! before anything runs or is written, so an unknown one fails first, by name.

use opsdeck_vault::{SecretReference, REFERENCE_SCHEME};
use zeroize::Zeroizing;

use super::Vaults;
use crate::{Caller, DeckError};

/// One `{{ opsdeck://… }}` found in a template.
struct Placeholder {
    start: usize,
    end: usize,
    reference: SecretReference,
}

/// Finds the `{{ opsdeck://… }}` placeholders of `template`, in order.
fn placeholders(template: &str) -> Result<Vec<Placeholder>, DeckError> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(open) = template[from..].find("{{") {
        let start = from + open;
        let Some(close) = template[start..].find("}}") else { break };
        let end = start + close + 2;
        let inner = template[start + 2..end - 2].trim();
        if inner.starts_with(REFERENCE_SCHEME) {
            found.push(Placeholder { start, end, reference: SecretReference::parse(inner)? });
        }
        from = end;
    }
    Ok(found)
}

impl Vaults<'_> {
    /// Resolves one reference (audited as a reveal for `purpose`).
    pub async fn resolve_reference(
        self,
        caller: &Caller,
        reference: &SecretReference,
    ) -> Result<Zeroizing<String>, DeckError> {
        let value = self.secret_get(caller, &reference.path(), reference.version).await?;
        Ok(value.value.clone())
    }

    /// Checks that every reference names an existing secret (and version)
    /// that the caller may reveal, without revealing anything.
    pub async fn check_references(
        self,
        caller: &Caller,
        references: &[SecretReference],
    ) -> Result<(), DeckError> {
        for reference in references {
            let history =
                self.secret_history(caller, &reference.path()).await.map_err(|error| match error {
                    DeckError::Vault(
                        opsdeck_vault::VaultError::UnknownSecret { .. }
                        | opsdeck_vault::VaultError::UnknownVault { .. },
                    ) => opsdeck_vault::VaultError::Invalid(format!("{reference} does not exist: {error}"))
                        .into(),
                    other => other,
                })?;
            if let Some(version) = reference.version {
                if !history.iter().any(|entry| entry.version == version) {
                    return Err(opsdeck_vault::VaultError::Invalid(format!(
                        "{reference}: there is no version {version}"
                    ))
                    .into());
                }
            }
            let path = reference.path();
            let operator = opsdeck_vault::Role::Operator;
            self.deck
                .require(caller, &reference.vault, operator, "secret.reveal", &path, "revealing a value")
                .await?;
        }
        Ok(())
    }

    /// Renders a template: each `{{ opsdeck://VAULT/NAME[#N] }}` becomes the value.
    pub async fn render_template(
        self,
        caller: &Caller,
        template: &str,
    ) -> Result<Zeroizing<String>, DeckError> {
        let found = placeholders(template)?;
        let references: Vec<SecretReference> = found.iter().map(|p| p.reference.clone()).collect();
        self.check_references(caller, &references).await?;
        let mut rendered = Zeroizing::new(String::with_capacity(template.len()));
        let mut last = 0;
        for placeholder in &found {
            rendered.push_str(&template[last..placeholder.start]);
            rendered.push_str(&self.resolve_reference(caller, &placeholder.reference).await?);
            last = placeholder.end;
        }
        rendered.push_str(&template[last..]);
        Ok(rendered)
    }

    /// Resolves environment variables: values that are references become the
    /// secret's value, others pass through unchanged.
    pub async fn resolve_environment(
        self,
        caller: &Caller,
        variables: &[(String, String)],
    ) -> Result<Vec<(String, Zeroizing<String>)>, DeckError> {
        let mut references = Vec::new();
        for (_, value) in variables {
            if value.trim().starts_with(REFERENCE_SCHEME) {
                references.push(SecretReference::parse(value)?);
            }
        }
        self.check_references(caller, &references).await?;
        let mut resolved = Vec::with_capacity(variables.len());
        for (name, value) in variables {
            let value = if value.trim().starts_with(REFERENCE_SCHEME) {
                self.resolve_reference(caller, &SecretReference::parse(value)?).await?
            } else {
                Zeroizing::new(value.clone())
            };
            resolved.push((name.clone(), value));
        }
        Ok(resolved)
    }
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn placeholders_are_found_with_or_without_spaces_and_others_are_left_alone() {
        let template = "url={{ opsdeck://prod/db#2 }} key={{opsdeck://prod/api}} keep={{ not.a.ref }} end";
        let found = placeholders(template).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].reference.to_string(), "opsdeck://prod/db#2");
        assert_eq!(&template[found[1].start..found[1].end], "{{opsdeck://prod/api}}");
        assert!(placeholders("{{ opsdeck://broken }}").is_err());
    }
}
