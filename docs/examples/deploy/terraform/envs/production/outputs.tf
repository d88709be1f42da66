output "database_endpoint" {
  description = "Put into the Secret's CHATBOT_DATABASE_URL (with the rotated password)."
  value       = module.postgres.endpoint
}

output "database_secret_arn" {
  description = "Where RDS keeps the master password."
  value       = module.postgres.master_secret_arn
}

output "api_service" {
  description = "In-cluster DNS name of the API."
  value       = module.app.service_name
}
