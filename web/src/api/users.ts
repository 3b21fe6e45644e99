// The tenant's users (admins only): for pickers of the admin screens.

import { api } from './client';

export interface TenantUser {
  id: string;
  email: string;
  roles: string[];
  tenant_id: string;
}

export const usersApi = {
  list: () => api.get<TenantUser[]>('/admin/users'),
};
