/**
 * Entry point of the `terraform-provider-fluxbase` executable (bundled by
 * scripts/build-fluxbase-provider.mjs). Terraform starts it with its go-plugin environment;
 * `FLUXBASE_TF_DEBUG=1` runs it in debug (reattach) mode instead.
 */
import { serve } from '../terraform/index.js';
import { fluxbaseProvider } from './provider.js';

void serve(fluxbaseProvider(), { executable: 'terraform-provider-fluxbase' });
