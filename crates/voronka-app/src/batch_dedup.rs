//! Deduplication of the whole database (`voronka dedup`): for contacts that came in before the
//! intake could match them (legacy imports, merged systems). The contact matcher of the intake
//! compares every pair sharing a phone, an email, a profile or a block key; same-person pairs
//! form clusters, which a dry run reports and an apply merges — undoably, one merge per contact.

use crate::{now_ms, Actor, App, AppError, Message, Result};
use serde::Serialize;
use voronka_core::linkage::contact::{ContactDecision, ContactMatcher, ContactRecord};
use voronka_core::linkage::{Comparison, Progress, Step};
use voronka_core::{Id, Notice, Stage};
use voronka_store::{ContactDetail, NewAudit, NewDuplicatePair};

/// Contacts read per query.
const PAGE: i64 = 10_000;
/// A key shared by more contacts than this (a switchboard, a shared inbox) joins nobody.
const MAX_BLOCK: usize = 200;

#[derive(Debug, Clone, Copy, Default)]
pub struct DedupOptions {
    /// Merge the clusters and queue the uncertain pairs for review; otherwise only report.
    pub apply: bool,
}

/// One contact of a cluster.
#[derive(Debug, Clone, Serialize)]
pub struct DedupMember {
    pub contact_id: Id,
    pub name: String,
    pub phones: Vec<String>,
    pub emails: Vec<String>,
    pub company: Option<String>,
}

/// Contacts found to be one person. The survivor is the customer among them, else the oldest.
#[derive(Debug, Clone, Serialize)]
pub struct DedupCluster {
    pub survivor: Id,
    pub members: Vec<DedupMember>,
    /// The lowest probability among the pairs that joined the cluster.
    pub min_probability: f64,
    /// The strongest pair's explanation, for the report.
    pub explanation: Comparison,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct DedupReport {
    pub contacts: u64,
    pub candidate_pairs: u64,
    pub skipped_blocks: u64,
    pub same_person_pairs: u64,
    pub uncertain_pairs: u64,
    pub clusters: Vec<DedupCluster>,
    /// Contacts that a merge would fold (or, applied, folded) into their cluster's survivor.
    pub contacts_to_merge: u64,
    pub applied: bool,
    /// Merges recorded (each undoable from the lead card or the API).
    pub merges: Vec<Id>,
    /// Uncertain pairs queued for review on the duplicates page.
    pub queued_for_review: u64,
    /// Contacts not merged, with the reason (both customers already, changed meanwhile …).
    pub not_merged: Vec<(Id, Message)>,
}

fn same_request(a: Option<&str>, b: Option<&str>) -> bool {
    let norm = |s: Option<&str>| s.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
    norm(a) == norm(b)
}

fn open(stage: Stage) -> bool {
    !matches!(stage, Stage::Converted | Stage::Junk)
}

impl App {
    /// Finds (and with `apply` merges) duplicate contacts across the whole database.
    pub async fn dedup_contacts(
        &self,
        actor: &Actor,
        opts: DedupOptions,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<DedupReport> {
        actor.require_write_leads()?;
        if !actor.role().assigns_leads() {
            return Err(AppError::Forbidden(Message::new(
                "merge_contacts_forbidden",
            )));
        }
        let mut contacts = Vec::new();
        let mut after = 0;
        loop {
            let page = self.store.contacts_for_dedup(after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.id;
            contacts.extend(page);
            progress(Progress {
                step: Step::ReadingContacts,
                done: contacts.len() as u64,
                total: 0,
            });
        }
        let records: Vec<ContactRecord> = contacts
            .iter()
            .map(|c| ContactRecord {
                fields: voronka_core::linkage::contact::ContactFields {
                    name: c.full_name.clone(),
                    phones: c.phones.clone(),
                    email_keys: c.email_keys.clone(),
                    socials: c.socials.clone(),
                    company: c.company.clone(),
                    city: None,
                },
                block_key: c.block_key.clone(),
            })
            .collect();
        let matcher = ContactMatcher::default();
        let found = matcher.dedupe(&records, MAX_BLOCK, progress);

        let mut report = DedupReport {
            contacts: contacts.len() as u64,
            candidate_pairs: found.candidate_pairs,
            skipped_blocks: found.skipped_blocks,
            applied: opts.apply,
            ..Default::default()
        };
        // Clusters of more than one contact, each with its weakest and strongest pair.
        let mut by_cluster: std::collections::BTreeMap<u32, Vec<usize>> = Default::default();
        for (i, &c) in found.cluster_of.iter().enumerate() {
            by_cluster.entry(c).or_default().push(i);
        }
        let mut pair_stats: std::collections::HashMap<u32, (f64, Comparison)> = Default::default();
        for p in &found.pairs {
            match p.decision {
                ContactDecision::SamePerson => {
                    report.same_person_pairs += 1;
                    let c = found.cluster_of[p.a as usize];
                    let e = pair_stats
                        .entry(c)
                        .or_insert_with(|| (p.comparison.probability, p.comparison.clone()));
                    e.0 = e.0.min(p.comparison.probability);
                    if p.comparison.weight > e.1.weight {
                        e.1 = p.comparison.clone();
                    }
                }
                ContactDecision::Uncertain => report.uncertain_pairs += 1,
                ContactDecision::Different => {}
            }
        }
        for (c, members) in by_cluster {
            if members.len() < 2 {
                continue;
            }
            let Some((min_probability, explanation)) = pair_stats.remove(&c) else {
                continue;
            };
            report.contacts_to_merge += members.len() as u64 - 1;
            report.clusters.push(DedupCluster {
                // Chosen for real when applying (the customer wins); the oldest for the report.
                survivor: contacts[members[0]].id,
                members: members
                    .iter()
                    .map(|&i| {
                        let c = &contacts[i];
                        DedupMember {
                            contact_id: c.id,
                            name: c.full_name.clone(),
                            phones: c.phones.clone(),
                            emails: c.email_keys.clone(),
                            company: c.company.clone(),
                        }
                    })
                    .collect(),
                min_probability,
                explanation,
            });
        }
        if !opts.apply {
            return Ok(report);
        }

        let total = report.clusters.len() as u64;
        for (n, cluster) in report.clusters.iter_mut().enumerate() {
            progress(Progress {
                step: Step::Merging,
                done: n as u64,
                total,
            });
            let mut details = Vec::with_capacity(cluster.members.len());
            for m in &cluster.members {
                if let Some(d) = self.store.contact_detail(m.contact_id).await? {
                    details.push(d);
                }
            }
            let Some(survivor) = details
                .iter()
                .find(|d| d.customer.is_some())
                .or_else(|| details.iter().min_by_key(|d| d.contact.id))
                .map(|d| d.contact.id)
            else {
                continue;
            };
            cluster.survivor = survivor;
            for d in details.iter().filter(|d| d.contact.id != survivor) {
                match self.merge_contact_into(actor, survivor, d).await {
                    Ok(Some(id)) => report.merges.push(id),
                    Ok(None) => report
                        .not_merged
                        .push((d.contact.id, Message::new("dedup_no_lead_to_merge"))),
                    Err(AppError::Conflict(why)) => report.not_merged.push((d.contact.id, why)),
                    Err(e) => return Err(e),
                }
            }
        }
        progress(Progress {
            step: Step::Merging,
            done: total,
            total,
        });

        // Uncertain pairs go to the review queue, between each contact's latest lead.
        let mut queue = Vec::new();
        let now = now_ms();
        for p in found
            .pairs
            .iter()
            .filter(|p| p.decision == ContactDecision::Uncertain)
        {
            let (a, b) = (&contacts[p.a as usize], &contacts[p.b as usize]);
            let latest = |id: Id| async move {
                Ok::<_, AppError>(
                    self.store
                        .contact_detail(id)
                        .await?
                        .and_then(|d| d.leads.iter().map(|l| l.id).max()),
                )
            };
            if let (Some(la), Some(lb)) = (latest(a.id).await?, latest(b.id).await?) {
                if la != lb {
                    queue.push(NewDuplicatePair {
                        lead_id: la.max(lb),
                        other_lead_id: la.min(lb),
                        comparison: p.comparison.clone(),
                        at: now,
                    });
                }
            }
        }
        if !queue.is_empty() {
            let mut tx = self.store.begin().await?;
            tx.insert_duplicate_pairs(&queue).await?;
            tx.commit().await?;
            report.queued_for_review = queue.len() as u64;
        }
        Ok(report)
    }

    /// Folds one contact into the survivor in one transaction: a lead on the same request as a
    /// lead of the survivor merges into it; otherwise the contacts alone merge and the lead stays
    /// a lead of its own. Either way every other lead, phone and email moves along.
    async fn merge_contact_into(
        &self,
        actor: &Actor,
        survivor: Id,
        merged: &ContactDetail,
    ) -> Result<Option<Id>> {
        let Some(s) = self.store.contact_detail(survivor).await? else {
            return Ok(None);
        };
        let same = merged.leads.iter().find_map(|lm| {
            s.leads
                .iter()
                .filter(|ls| open(ls.stage) && open(lm.stage))
                .find(|ls| same_request(ls.product.as_deref(), lm.product.as_deref()))
                .map(|ls| (ls.id, lm.id))
        });
        let anchor = |d: &ContactDetail| d.leads.iter().map(|l| l.id).max();
        let now = now_ms();
        let mut tx = self.store.begin().await?;
        let snap = match same {
            Some((ls, lm)) => tx.merge_leads(ls, lm, &[], now).await?,
            None => match (anchor(&s), anchor(merged)) {
                (Some(ls), Some(lm)) => tx.merge_contacts(ls, lm, &[], now).await?,
                _ => return Ok(None),
            },
        };
        self.rescore_merged(tx.as_mut(), &snap, false, now).await?;
        let id = tx
            .record_merge(&snap, actor.user_id(), &actor.name(), now)
            .await?;
        tx.audit(&NewAudit {
            actor_id: actor.user_id(),
            actor: actor.name(),
            action: "contact.merge".into(),
            entity: "contact".into(),
            entity_id: Some(survivor),
            before: None,
            after: Some(
                if snap.lead_kept {
                    Notice::new("contact_merged_in_lead_kept")
                } else {
                    Notice::new("contact_merged_in").with("survivor", snap.survivor_lead)
                }
                .with("contact", merged.contact.id)
                .with("merge", id)
                .with("merged", snap.merged_lead)
                .to_json(),
            ),
            at: now,
        })
        .await?;
        tx.commit().await?;
        Ok(Some(id))
    }
}
