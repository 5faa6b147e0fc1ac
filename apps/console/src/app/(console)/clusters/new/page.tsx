import type { Metadata } from 'next';
import { CreateClusterForm } from './CreateClusterForm';

export const metadata: Metadata = { title: 'Create cluster' };

export default function NewClusterPage() {
  return <CreateClusterForm />;
}
