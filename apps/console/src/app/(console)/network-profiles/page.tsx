import type { Metadata } from 'next';
import { NetworkProfileList } from './NetworkProfileList';

export const metadata: Metadata = { title: 'Network profiles' };

export default function NetworkProfilesPage() {
  return <NetworkProfileList />;
}
