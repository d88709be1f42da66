output "endpoint" {
  description = "host:port of the primary."
  value       = aws_db_instance.this.endpoint
}

output "master_secret_arn" {
  description = "Secrets Manager secret holding the rotated master password."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}
