# Terraform and provider versions. The google provider 7.x is required for the
# `desired_state` argument of google_cloud_tasks_queue (the dead-letter queue is kept PAUSED)
# and for `deletion_protection` / `urls` on google_cloud_run_v2_service.
terraform {
  required_version = ">= 1.5.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 7.0, < 8.0"
    }
  }
}

provider "google" {
  project = var.project
  region  = var.region
}
