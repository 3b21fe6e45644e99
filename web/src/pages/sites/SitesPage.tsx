// Not built yet: shows the honest placeholder until this screen lands.

import PlaceholderPage from '../PlaceholderPage';

export default function Page() {
  return <PlaceholderPage page="sites" />;
}
