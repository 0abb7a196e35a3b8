/** A distinct canary value in every secret field of the root config (searched for in every output). */
export const CANARIES: Record<string, string> = {
  SIGNUP_WEBHOOK_SECRET: 'canary-signup-7f3a91',
  POSTS_WEBHOOK_SECRET: 'canary-posts-2b8c44',
  GITHUB_CLIENT_SECRET: 'canary-github-5c6f38',
  CORP_SSO_CLIENT_SECRET: 'canary-sso-0a4b62',
  NEWSLETTER_SMTP_PASSWORD: 'canary-smtp-8e2d15',
};
