# Google APIs the deployment uses. They stay enabled on `terraform destroy`: turning an API off
# can break other workloads in the same project.
locals {
  # Enabling pubsub.googleapis.com also creates the Pub/Sub service agent that iam.tf grants roles to.
  apis = toset(concat([
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "cloudtasks.googleapis.com",
    "iam.googleapis.com",
    "run.googleapis.com",
  ], var.pubsub.enabled ? ["pubsub.googleapis.com"] : []))
}

resource "google_project_service" "enabled" {
  for_each = local.apis

  project            = var.project
  service            = each.value
  disable_on_destroy = false
}

# The project number is part of every Cloud Run service's deterministic URL
# (https://SERVICE-PROJECT_NUMBER.REGION.run.app), which lets tier N know tier N+1's URL and its
# own OIDC audience before either service exists.
data "google_project" "this" {
  project_id = var.project
}
