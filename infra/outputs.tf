# What clients and operators need after `terraform apply`.

output "tier_queues" {
  description = "Full path of each tier's Cloud Tasks queue, by tier number. Clients enqueue into tier 1."
  value       = { for k, q in google_cloud_tasks_queue.tier : k => q.id }
}

output "tier_urls" {
  description = "Deterministic URL of each tier's service, by tier number: the target URL and OIDC audience of tasks for that tier."
  value       = { for k, t in local.tiers : k => t.url }
}

output "tier_service_uris" {
  description = "URI Cloud Run reports for each tier's service (the hash-based URL; either URL reaches the service)."
  value       = { for k, s in google_cloud_run_v2_service.tier : k => s.uri }
}

output "tier_services" {
  description = "Cloud Run service name of each tier, by tier number."
  value       = { for k, s in google_cloud_run_v2_service.tier : k => s.name }
}

output "notifier_queue" {
  description = "Full path of the notifier queue."
  value       = google_cloud_tasks_queue.notifier.id
}

output "dead_letter_queue" {
  description = "Full path of the (paused) dead-letter queue."
  value       = google_cloud_tasks_queue.dead_letter.id
}

output "invoker_service_account" {
  description = "Account whose OIDC token tasks must carry (clients set it as oidc_token.service_account_email)."
  value       = google_service_account.invoker.email
}

output "runtime_service_account" {
  description = "Account the executor services run as."
  value       = google_service_account.runtime.email
}

output "deployer_service_account" {
  description = "Account for Cloud Build (gcloud builds submit --service-account=…)."
  value       = google_service_account.deployer.id
}

output "image_repository" {
  description = "Docker repository for the executor image: REGION-docker.pkg.dev/PROJECT/REPOSITORY."
  value       = "${var.region}-docker.pkg.dev/${var.project}/${google_artifact_registry_repository.images.repository_id}"
}

output "cloudbuild_substitutions" {
  description = "Value for `gcloud builds submit --substitutions=…` (and build triggers) matching this deployment."
  value = join(",", [
    "_REGION=${var.region}",
    "_REPOSITORY=${google_artifact_registry_repository.images.repository_id}",
    "_SERVICES=${join(" ", [for k in sort(keys(local.tiers)) : local.tiers[k].name])}",
  ])
}

output "pubsub_tier_topics" {
  description = "With Pub/Sub: full path of the jobs topic of each tier it feeds, by tier number. Producers publish jobs to tier 1's."
  value       = { for k, t in google_pubsub_topic.tier : k => t.id }
}

output "pubsub_tier_subscriptions" {
  description = "With Pub/Sub: full path of the push subscription feeding each tier (its EXECUTOR_SUBSCRIPTION), by tier number."
  value       = { for k, s in google_pubsub_subscription.tier : k => s.id }
}

output "outcomes_topic" {
  description = "With Pub/Sub: the topic every tier publishes terminal outcomes to (NOTIFY_TOPIC); null without."
  value       = local.outcomes_topic
}

output "outcomes_subscription" {
  description = "With Pub/Sub: the chain's pull subscription on the outcomes topic; null without."
  value       = one(google_pubsub_subscription.outcomes[*].id)
}

output "pubsub_dead_letter_subscription" {
  description = "With Pub/Sub feeding a tier: the pull subscription holding messages a tier's subscription gave up on; null without."
  value       = one(google_pubsub_subscription.dead_letter[*].id)
}

output "pusher_service_account" {
  description = "With Pub/Sub feeding a tier: the account whose OIDC token Pub/Sub attaches to pushes; null without."
  value       = one(google_service_account.pusher[*].email)
}
